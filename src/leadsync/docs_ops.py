"""docs/operations.md: every operation of the WSDL and whether leadsync emulates it.

Run ``python -m leadsync.docs_ops`` to rewrite the file, ``--check`` to fail when it is
out of date (the test suite does the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leadsync.soap.handlers import load_handlers
from leadsync.soap.wsdl import wsdl_operations

DEFAULT_PATH = Path("docs/operations.md")
IMPLEMENTED = "implemented"
NOT_EMULATED = "answers 20019 (Unsupported Operation)"


def render() -> str:
    handlers = load_handlers()
    names = wsdl_operations()
    rows = [
        f"| {n} | `{name}` | {IMPLEMENTED if name in handlers else NOT_EMULATED} |"
        for n, name in enumerate(names, 1)
    ]
    done = sum(1 for name in names if name in handlers)
    return "\n".join(
        [
            "# Operations",
            "",
            "<!-- Generated from the served WSDL by `python -m leadsync.docs_ops`;"
            " a test fails when this file is out of date. -->",
            "",
            f"The WSDL declares {len(names)} operations; leadsync emulates {done} of them.",
            "A call to any other one gets a SOAP fault with code 20019 whose message names",
            "the operation, for example",
            "`Unsupported Operation: getTags is not emulated by leadsync (20019)`.",
            "",
            "| # | Operation | State |",
            "| --- | --- | --- |",
            *rows,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m leadsync.docs_ops", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
