"""syncMultipleLeads throughput: 300-lead batches over HTTP vs. the raw in-process pipeline.

Each batch holds 10 attributes a lead, half new leads and half existing ones. The raw
pipeline parses the same envelopes and writes the same leads to SQLite with no HTTP, so the
ratio shows what the HTTP layer costs.
"""

from __future__ import annotations

import argparse
import http.client
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from common import KEY, USER, Figures, server, sync_envelope, tmp_sqlite

BATCH = 300


def batches(count: int, offset: int) -> list[list[int]]:
    """``count`` batches: the first half of each updates leads made by the seed, the second
    half creates new ones."""
    half = BATCH // 2
    plan = []
    for b in range(count):
        existing = [offset + (b * half + j) for j in range(half)]
        new = [offset + 10_000_000 + b * half + j for j in range(half)]
        plan.append(existing + new)
    return plan


def seed_indices(count: int, offset: int) -> list[list[int]]:
    half = BATCH // 2
    every = [offset + i for i in range(count * half)]
    return [every[i : i + BATCH] for i in range(0, len(every), BATCH)]


def run_http(endpoint: str, plan: list[list[int]], connections: int) -> Figures:
    latencies: list[float] = []
    ends: list[float] = []
    lock = threading.Lock()
    # Bodies are built (and signed) before the clock starts, as wrk or ab send theirs: the
    # load generator shares the machine, and its own work is not the server's.
    queue = [sync_envelope(indices) for indices in reversed(plan)]
    errors: list[str] = []

    url = urlsplit(endpoint)
    headers = {"Content-Type": "text/xml; charset=utf-8"}

    def worker() -> None:
        # The standard library's client: a keep-alive connection at a fraction of httpx's CPU
        # a call, which on two cores is CPU the server does not get.
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                started = time.perf_counter()
                conn.request("POST", url.path, body, headers)
                response = conn.getresponse()
                content = response.read()
                ended = time.perf_counter()
                if response.status != 200 or b"FAILED" in content:
                    errors.append(content[:300].decode(errors="replace"))
                with lock:
                    latencies.append(ended - started)
                    ends.append(ended)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} calls failed, first: {errors[0]}")
    return Figures(f"HTTP, {connections} connections", len(plan) * BATCH, seconds, latencies, ends)


def run_raw(database_url: str, plan: list[list[int]], seed: list[list[int]]) -> Figures:
    from leadsync.config import Settings
    from leadsync.soap.endpoint import SoapService
    from leadsync.store import open_store

    store = open_store(database_url)
    store.add_user(USER, KEY)
    service = SoapService(store, Settings(database_url=database_url))
    call: Callable[[bytes], tuple[int, bytes]] = service.process
    for indices in seed:
        call(sync_envelope(indices))
    bodies = [sync_envelope(indices) for indices in plan]
    latencies = []
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        status, _ = call(body)
        latencies.append(time.perf_counter() - t0)
        assert status == 200
    seconds = time.perf_counter() - started
    service.close()  # its calls history is written before the store closes
    store.close()
    return Figures("raw pipeline (parse + write, no HTTP)", len(plan) * BATCH, seconds, latencies)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed = seed_indices(args.batches, 0)
        plan = batches(args.batches, 0)
        raw = run_raw(tmp_sqlite(folder, "raw.db"), plan, seed)
        url = tmp_sqlite(folder, "http.db")
        with server(url) as endpoint:
            run_http(endpoint, seed, args.connections)  # the existing half
            http = run_http(endpoint, plan, args.connections)
    print("syncMultipleLeads, 300-lead batches, 10 attributes, half new (SQLite, 1 process)")
    print("  " + http.line())
    print("  " + raw.line())
    ratio = http.rate / raw.rate
    print(f"  HTTP / raw: {ratio:.0%}   (targets: >= 25,000 leads/s over HTTP, >= 50% of raw)")
    return {"http_leads_per_s": http.rate, "raw_leads_per_s": raw.rate, "ratio": ratio}


if __name__ == "__main__":
    main()
