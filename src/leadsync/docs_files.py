"""What every generated docs file shares: ``python -m leadsync.docs_X`` rewrites the file,
``--check`` exits 1 when it is out of date (the test suite runs the same check)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path


def generate(
    module: str,
    default_path: Path,
    render: Callable[[str], str],
    argv: list[str] | None = None,
) -> int:
    """Rewrite ``default_path`` (or ``--output``) as ``render`` makes it from its current
    text ("" for a missing file)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}", description=f"Rewrite {default_path} from the code."
    )
    parser.add_argument("--output", type=Path, default=default_path)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    text = render(current)
    if args.check:
        if current != text:
            print(f"{args.output} is out of date: run python -m {module}", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table's lines."""
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
