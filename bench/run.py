"""``make bench``: every benchmark, each in its own process, figures printed as they come.

Figures are printed, never asserted: a slow machine must not fail a build. ``--only NAME``
runs one of them (``sync``, ``scale``, ``reads``, ``limits``, ``push``, ``rest``,
``console``, ``bulk``, ``bridge``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = ["sync", "scale", "reads", "limits", "push", "rest", "console", "bulk", "bridge"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=BENCHMARKS)
    args = parser.parse_args()
    failed = []
    for name in [args.only] if args.only else BENCHMARKS:
        script = HERE / f"bench_{name}.py"
        if not script.exists():
            continue
        print(f"\n== {name} ==", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that did not complete: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
