"""``make bench``: every benchmark, one after the other, figures printed as they come."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_sync


def main() -> None:
    bench_sync.main([])


if __name__ == "__main__":
    main()
