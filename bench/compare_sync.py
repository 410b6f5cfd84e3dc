"""syncMultipleLeads over HTTP, this checkout against another one, in interleaved rounds.

On a shared machine two runs of ``bench_sync.py`` minutes apart differ by more than the 5%
a change may cost. This alternates the two builds round by round, each on a fresh SQLite
file with the same load as ``bench_sync.py``'s HTTP part (300-lead batches, half new, four
connections), and reports per build the median leads/s and the server's CPU a lead (user
and system time of the server process, from /proc), then the median of the per-round
ratios. The other checkout needs its own installed ``.venv``; for an older commit:

    git worktree add ../before REV && (cd ../before && python3 -m venv .venv &&
        .venv/bin/pip install -q -e .)
    cd bench && ../.venv/bin/python compare_sync.py ../../before --rounds 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench_sync import batches, run_http, seed_indices
from common import KEY, USER, free_port, tmp_sqlite, wait_until_up

HERE = Path(__file__).resolve().parent
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    rate: float
    cpu_us: float


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def one_round(checkout: Path, count: int, connections: int) -> Round:
    python = str(checkout / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        url = tmp_sqlite(Path(tmp), "compare.db")
        add = ["-m", "leadsync.cli", "users", "add", USER, "--encryption-key", KEY]
        subprocess.run([python, *add, "--database", url], check=True, capture_output=True)
        port = free_port()
        serve = ["-m", "leadsync.cli", "serve", "--port", str(port), "--database", url]
        proc = subprocess.Popen(
            [python, *serve, "--log-level", "warning"],
            cwd=checkout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, proc)
            endpoint = base + "/soap/mktows/2_2"
            run_http(endpoint, seed_indices(count, 0), connections)
            before = _cpu_seconds(proc.pid)
            figures = run_http(endpoint, batches(count, 0), connections)
            cpu = _cpu_seconds(proc.pid) - before
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return Round(figures.rate, cpu / figures.items * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("other", type=Path, help="the checkout to compare with (its .venv)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    builds = {"other": args.other.resolve(), "this": HERE.parent}
    rounds: dict[str, list[Round]] = {name: [] for name in builds}
    for index in range(args.rounds):
        for name, checkout in builds.items():
            figures = one_round(checkout, args.batches, args.connections)
            rounds[name].append(figures)
            print(
                f"round {index + 1:2d} {name:5s} {figures.rate:9,.0f} leads/s"
                f"  server CPU {figures.cpu_us:5.1f} us a lead",
                flush=True,
            )
    print("syncMultipleLeads over HTTP, 300-lead batches, SQLite, interleaved rounds")
    for name, checkout in builds.items():
        rates = [r.rate for r in rounds[name]]
        cpu = [r.cpu_us for r in rounds[name]]
        print(
            f"  {name:5s} {statistics.median(rates):9,.0f} leads/s (median)"
            f"  server CPU {statistics.median(cpu):5.1f} us a lead   {checkout}"
        )
    ratios = [t.rate / o.rate for o, t in zip(rounds["other"], rounds["this"], strict=True)]
    print(f"  this / other: {statistics.median(ratios):.3f} (median of per-round ratios)")


if __name__ == "__main__":
    main()
