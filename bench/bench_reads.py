"""getMultipleLeads throughput: every lead of a 100,000-lead database read back over HTTP.

The leads (10 attributes each, as bench_sync writes them) are stored straight into SQLite,
then read page by page with a LastUpdateAtSelector at the largest batchSize the server
allows, following newStreamPosition until remainingCount is 0, over one connection as a
client paging a stream does. The raw pipeline does the same calls in-process, without HTTP.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from common import Figures, envelope, server, tmp_sqlite

_REMAINING = re.compile(rb"<remainingCount>(\d+)</remainingCount>")
_POSITION = re.compile(rb"<newStreamPosition>([^<]*)</newStreamPosition>")
_ID = re.compile(rb"<leadRecord><Id>(\d+)</Id>")
_SEED_CHUNK = 5000


def seed(database_url: str, count: int) -> datetime:
    """``count`` leads written directly through the store; returns a time before them all."""
    from leadsync.model import Lead
    from leadsync.store import open_store

    store = open_store(database_url)
    start = datetime.now(UTC) - timedelta(seconds=1)
    for first in range(0, count, _SEED_CHUNK):
        with store.write() as tx:
            ids = tx.allocate_ids(min(_SEED_CHUNK, count - first))
            now = datetime.now(UTC)
            tx.insert_leads(
                [
                    Lead(
                        id=lead_id,
                        email=f"lead{first + n}@bench.example.com",
                        foreign_sys_person_id=None,
                        foreign_sys_type=None,
                        values=_values(first + n),
                        created_at=now,
                        updated_at=now,
                    )
                    for n, lead_id in enumerate(ids)
                ]
            )
    store.close()
    return start


def _values(i: int) -> dict[str, str | int | float | bool | None]:
    return {
        "FirstName": f"First{i}",
        "LastName": f"Last{i}",
        "Company": f"Company {i % 997}",
        "Title": "Engineer",
        "Phone": f"650-555-{i % 10000:04d}",
        "City": "Lyon",
        "State": "ARA",
        "Country": "France",
        "LeadScore": i % 100,
        "Website": f"www{i % 50}.example.com",
    }


def page_envelope(since: datetime, batch: int, position: str) -> bytes:
    selector = (
        '<leadSelector xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:type="ns1:LastUpdateAtSelector"><oldestUpdatedAt>{since.isoformat()}'
        "</oldestUpdatedAt></leadSelector>"
    )
    params = selector + (f"<streamPosition>{position}</streamPosition>" if position else "")
    return envelope("paramsGetMultipleLeads", params + f"<batchSize>{batch}</batchSize>")


def read_stream(
    call: Callable[[bytes], bytes], since: datetime, batch: int, name: str, expected: int
) -> Figures:
    latencies: list[float] = []
    seen: set[bytes] = set()
    position = ""
    started = time.perf_counter()
    while True:
        body = page_envelope(since, batch, position)
        t0 = time.perf_counter()
        content = call(body)
        latencies.append(time.perf_counter() - t0)
        remaining = _REMAINING.search(content)
        found = _POSITION.search(content)
        if remaining is None or found is None:
            raise RuntimeError(f"not a getMultipleLeads result: {content[:300]!r}")
        seen.update(_ID.findall(content))
        position = found.group(1).decode()
        if remaining.group(1) == b"0":
            break
    seconds = time.perf_counter() - started
    if len(seen) != expected:
        raise RuntimeError(f"read {len(seen)} distinct leads, expected {expected}")
    return Figures(name, len(seen), seconds, latencies)


def run_http(endpoint: str, since: datetime, batch: int, expected: int) -> Figures:
    with httpx.Client(timeout=120) as client:

        def call(body: bytes) -> bytes:
            response = client.post(endpoint, content=body, headers={"Content-Type": "text/xml"})
            if response.status_code != 200:
                raise RuntimeError(response.text[:300])
            return response.content

        return read_stream(call, since, batch, "HTTP, 1 connection", expected)


def run_raw(database_url: str, since: datetime, batch: int, expected: int) -> Figures:
    from leadsync.config import Settings
    from leadsync.soap.endpoint import SoapService
    from leadsync.store import open_store

    store = open_store(database_url)
    service = SoapService(store, Settings(database_url=database_url))

    def call(body: bytes) -> bytes:
        status, content = service.process(body)
        if status != 200:
            raise RuntimeError(content[:300].decode(errors="replace"))
        return content

    try:
        return read_stream(call, since, batch, "raw pipeline (no HTTP)", expected)
    finally:
        service.close()
        store.close()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="the largest allowed batchSize")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = tmp_sqlite(Path(tmp), "reads.db")
        since = seed(url, args.leads)
        with server(url) as endpoint:  # also adds the API user the raw run signs as
            http = run_http(endpoint, since, args.batch, args.leads)
        raw = run_raw(url, since, args.batch, args.leads)
    print(
        f"getMultipleLeads, LastUpdateAtSelector, batchSize {args.batch}, "
        f"{args.leads:,} leads with 10 attributes (SQLite, 1 process)"
    )
    print("  " + http.line())
    print("  " + raw.line())
    print("  (target: >= 20,000 leads/s over HTTP)")
    return {"http_leads_per_s": http.rate, "raw_leads_per_s": raw.rate}


if __name__ == "__main__":
    main()
