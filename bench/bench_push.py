"""End-to-end benchmark of ``leadsync push``: CSV file -> client -> local leadsync server.

    python bench/bench_push.py                    # 100,000 rows: rows/s and client peak RSS
    python bench/bench_push.py --memory-check     # also push 2,000,000 rows, RSS must stay < 200 MB

The server and the client each run as their own process, as a user would run them; the
client's peak RSS is read from the kernel's accounting of that one process (wait4).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
USER_ID = "bench_user"
KEY = "bench-key-0123456789"
RSS_LIMIT_MB = 200
TARGET_ROWS_PER_S = 15_000

FIRST = ["Ann", "Bob", "Cid", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Jon"]
LAST = ["Smith", "Jones", "Martin", "Durand", "Rossi", "Novak", "Kim", "Silva"]
CITIES = ["Lyon", "Paris", "Berlin", "Austin", "Osaka", "Porto", "Turin", "Leeds"]


def leadsync() -> list[str]:
    return [sys.executable, "-m", "leadsync.cli"]


def push_command() -> list[str]:
    from leadsync.cli import main

    module = "leadsync.cli" if "push" in main.commands else "leadsync.cli.push"
    return [sys.executable, "-m", module, "push"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Ten columns a CRM export might have; every email new."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "Email",
                "FirstName",
                "LastName",
                "Company",
                "Phone",
                "City",
                "Country",
                "LeadScore",
                "Title",
                "Website",
            ]
        )
        for i in range(rows):
            writer.writerow(
                [
                    f"lead{i}@bench{i % 97}.example.com",
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    f"Company {i % 5000}",
                    f"+1-555-{i % 10000:04d}",
                    rng.choice(CITIES),
                    "FR",
                    str(rng.randint(0, 100)),
                    "Buyer",
                    f"https://www.example{i % 300}.com",
                ]
            )


class Server:
    def __init__(self, workdir: Path) -> None:
        self.db = f"sqlite:///{workdir / 'bench.db'}"
        subprocess.run(
            [*leadsync(), "users", "add", USER_ID, "--encryption-key", KEY, "--database", self.db],
            check=True,
            capture_output=True,
        )
        self.port = free_port()
        self.log = (workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [*leadsync(), "serve", "--port", str(self.port), "--database", self.db],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.endpoint = f"http://127.0.0.1:{self.port}/soap/mktows/2_2"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/soap/mktows/2_2?WSDL", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def push(server: Server, csv_path: Path, args: argparse.Namespace) -> tuple[float, float, str]:
    """Seconds, client peak RSS in MB, and the push's summary line."""
    command = [
        *push_command(),
        str(csv_path),
        "--endpoint",
        server.endpoint,
        "--user-id",
        USER_ID,
        "--encryption-key",
        KEY,
        "--rate-limit",
        "none",
        "--concurrency",
        str(args.concurrency),
        "--batch-size",
        str(args.batch_size),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    output = process.stdout.read().decode() if process.stdout else ""
    if process.stdout:
        process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"push failed ({status}):\n{output}")
    cpu = usage.ru_utime + usage.ru_stime
    print(f"  client CPU {cpu:.1f} s ({100 * cpu / elapsed:.0f}% of one core)")
    return elapsed, usage.ru_maxrss / 1024, output.splitlines()[0]


def run(rows: int, args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    csv_path = workdir / f"leads-{rows}.csv"
    started = time.perf_counter()
    generate(csv_path, rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"generated {rows:,} rows ({size_mb:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    server = Server(workdir / f"server-{rows}")
    try:
        elapsed, rss, summary = push(server, csv_path, args)
    finally:
        server.stop()
    rate = rows / elapsed
    print(f"  {summary}")
    print(
        f"  push of {rows:,} rows: {elapsed:.1f} s, {rate:,.0f} rows/s end to end, "
        f"client peak RSS {rss:.0f} MB"
    )
    return rate, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=300)
    parser.add_argument(
        "--memory-check",
        action="store_true",
        help=f"also push 2,000,000 rows and check the client stays under {RSS_LIMIT_MB} MB",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    (REPO / "bench" / "out").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="push-", dir=REPO / "bench" / "out"))
    for sub in (f"server-{args.rows}", "server-2000000"):
        (workdir / sub).mkdir()
    ok = True
    try:
        print(f"leadsync push benchmark (concurrency {args.concurrency}, batch {args.batch_size})")
        rate, _ = run(args.rows, args, workdir)
        verdict = "met" if rate >= TARGET_ROWS_PER_S else "NOT met"
        print(f"  target >= {TARGET_ROWS_PER_S:,} rows/s: {verdict}")
        if args.memory_check:
            _, rss = run(2_000_000, args, workdir)
            verdict = "met" if rss < RSS_LIMIT_MB else "NOT met"
            print(f"  memory < {RSS_LIMIT_MB} MB for 2,000,000 rows: {verdict}")
            ok = rss < RSS_LIMIT_MB
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
