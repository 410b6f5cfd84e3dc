"""REST Sync Leads and Get Leads by Filter Type throughput, next to SOAP's syncMultipleLeads.

Sync: 300-record batches of 10 fields, half new leads and half existing ones, as bench_sync
sends over SOAP; both run in this process against servers of their own on fresh SQLite
databases. Get by filter: every lead written by the sync read back by email, 300 values a
call (the most Marketo allows), with the default field set.
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench_sync import BATCH, batches, run_http, seed_indices
from common import Figures, cli, server, tmp_sqlite

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret-0123456789"


def record(i: int) -> dict[str, object]:
    return {
        "email": f"lead{i}@bench.example.com",
        "firstName": f"First{i}",
        "lastName": f"Last{i}",
        "company": f"Company {i % 997}",
        "title": "Engineer",
        "phone": f"650-555-{i % 10000:04d}",
        "city": "Lyon",
        "state": "ARA",
        "country": "France",
        "leadScore": i % 100,
        "website": f"www{i % 50}.example.com",
    }


def sync_body(indices: Sequence[int]) -> bytes:
    return json.dumps({"action": "createOrUpdate", "input": [record(i) for i in indices]}).encode()


def token(base: str) -> str:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    query = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    )
    conn.request("GET", f"/identity/oauth/token?{query}")
    answer = json.loads(conn.getresponse().read())
    conn.close()
    return str(answer["access_token"])


def run_calls(
    base: str,
    name: str,
    calls: list[tuple[str, str, bytes, dict[str, str]]],
    items: int,
    connections: int,
    check: Callable[[dict[str, object]], bool],
) -> Figures:
    """Send ``calls`` (method, path, body, headers) over ``connections`` keep-alive
    connections; ``check`` says whether an answer is a success."""
    queue = list(reversed(calls))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    url = urlsplit(base)

    def worker() -> None:
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    method, path, body, headers = queue.pop()
                started = time.perf_counter()
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                content = response.read()
                elapsed = time.perf_counter() - started
                if response.status != 200 or not check(json.loads(content)):
                    errors.append(content[:300].decode(errors="replace"))
                with lock:
                    latencies.append(elapsed)
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
    return Figures(name, items, seconds, latencies)


def _synced(answer: dict[str, object]) -> bool:
    result = answer.get("result")
    return (
        answer.get("success") is True
        and isinstance(result, list)
        and all(r.get("status") in ("created", "updated") for r in result)
    )


def _read(answer: dict[str, object]) -> bool:
    return answer.get("success") is True


def rest_sync(base: str, plan: list[list[int]], connections: int, bearer: str) -> Figures:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
    calls = [("POST", "/rest/v1/leads.json", sync_body(indices), headers) for indices in plan]
    return run_calls(
        base,
        f"REST sync, {connections} connections",
        calls,
        len(plan) * BATCH,
        connections,
        _synced,
    )


def rest_filter(base: str, indices: list[int], connections: int, bearer: str) -> Figures:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"Bearer {bearer}",
    }
    calls = []
    for start in range(0, len(indices), BATCH):
        emails = ",".join(f"lead{i}@bench.example.com" for i in indices[start : start + BATCH])
        form = urlencode({"_method": "GET", "filterType": "email", "filterValues": emails})
        calls.append(("POST", "/rest/v1/leads.json", form.encode(), headers))
    return run_calls(
        base,
        f"REST get by filter, {connections} connections",
        calls,
        len(indices),
        connections,
        _read,
    )


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args(argv)
    seed = seed_indices(args.batches, 0)
    plan = batches(args.batches, 0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        soap_url = tmp_sqlite(folder, "soap.db")
        with server(soap_url) as endpoint:
            run_http(endpoint, seed, args.connections)
            soap = run_http(endpoint, plan, args.connections)
        rest_url = tmp_sqlite(folder, "rest.db")
        cli(
            "services", "add", "bench", "--client-id", CLIENT_ID,
            "--client-secret", CLIENT_SECRET, "--database", rest_url,
        )  # fmt: skip
        with server(rest_url) as endpoint:
            base = endpoint.split("/soap/", 1)[0]
            bearer = token(base)
            rest_sync(base, seed, args.connections, bearer)
            rest = rest_sync(base, plan, args.connections, bearer)
            every = sorted({i for indices in plan for i in indices})
            reads = rest_filter(base, every, args.connections, bearer)
    print("Sync, 300-lead batches, 10 fields, half new (SQLite, 1 process)")
    print("  " + rest.line())
    print("  " + soap.line().replace("HTTP,", "SOAP,"))
    ratio = rest.rate / soap.rate
    print(f"  REST / SOAP: {ratio:.0%}   (target: >= 100%)")
    print("Get Leads by Filter Type, email, 300 values a call, default fields")
    print("  " + reads.line())
    return {
        "rest_sync_leads_per_s": rest.rate,
        "soap_sync_leads_per_s": soap.rate,
        "rest_filter_leads_per_s": reads.rate,
    }


if __name__ == "__main__":
    main()
