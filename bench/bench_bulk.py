"""Bulk API throughput: lead import rows/s, lead extract leads/s, and what SOAP callers see
meanwhile.

Import: ``--rows`` rows of 10 fields (1,000,000 by default), half updating leads a seed
import made and half creating new ones, sent as files of at most 10 MB (Marketo's cap),
queued as the queue allows (2 importing, 10 waiting); timed from the first upload until the
last job is Complete. While it runs, one client sends syncMultipleLeads calls of 10 leads one
after another: their p50/p99 is what SOAP callers see during an import. Extract: every lead,
10 fields, one job, timed from enqueue to Completed. The server's peak RSS (VmHWM of the
server process and its workers) is read at the end. On SQLite, then on a new PostgreSQL
database (``--no-sqlite`` and ``--no-postgres`` skip one); ``--rows`` makes a quick run smaller.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from common import Figures, cli, server, sync_envelope, tmp_sqlite

CLIENT_ID = "bench-bulk-client"
CLIENT_SECRET = "bench-bulk-secret-0123456789"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
FILE_BYTES = 9_500_000
HEADER = "email,firstName,lastName,company,title,phone,city,state,country,leadScore\n"


def row(i: int, version: int) -> str:
    return (
        f"lead{i}@bulk.example.com,First{i},Last{i}v{version},Company {i % 997},Engineer,"
        f"650-555-{i % 10000:04d},Lyon,ARA,France,{(i + version) % 100}\n"
    )


def files(indices: Iterator[int], version: int) -> Iterator[bytes]:
    """CSV files of at most FILE_BYTES each."""
    parts = [HEADER]
    size = len(HEADER)
    for i in indices:
        line = row(i, version)
        if size + len(line) > FILE_BYTES:
            yield "".join(parts).encode()
            parts, size = [HEADER], len(HEADER)
        parts.append(line)
        size += len(line)
    if len(parts) > 1:
        yield "".join(parts).encode()


class Api:
    def __init__(self, base: str) -> None:
        self.url = urlsplit(base)
        self.bearer = ""
        self.bearer = self.json("GET", "/identity/oauth/token?" + urlencode(
            {"grant_type": "client_credentials", "client_id": CLIENT_ID,
             "client_secret": CLIENT_SECRET}
        ))["access_token"]  # fmt: skip

    def request(self, method: str, path: str, body: bytes | None = None, ctype: str = "") -> bytes:
        conn = http.client.HTTPConnection(self.url.hostname or "", self.url.port, timeout=600)
        headers = {"Authorization": f"Bearer {self.bearer}"} if self.bearer else {}
        if ctype:
            headers["Content-Type"] = ctype
        conn.request(method, path, body=body, headers=headers)
        data = conn.getresponse().read()
        conn.close()
        return data

    def json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        answer: dict[str, Any] = json.loads(
            self.request(method, path, data, "application/json" if data else "")
        )
        return answer

    def upload(self, content: bytes) -> int | None:
        """The job's batch id; None when the queue is full (1016)."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="leads.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        answer = json.loads(
            self.request(
                "POST",
                "/bulk/v1/leads.json?format=csv",
                body,
                f"multipart/form-data; boundary={boundary}",
            )
        )
        if not answer["success"]:
            if answer["errors"][0]["code"] == "1016":
                return None
            raise RuntimeError(answer)
        batch: int = answer["result"][0]["batchId"]
        return batch

    def status(self, batch: int) -> dict[str, Any]:
        result: dict[str, Any] = self.json("GET", f"/bulk/v1/leads/batch/{batch}.json")["result"][0]
        return result


def import_all(api: Api, contents: Iterator[bytes]) -> tuple[int, float]:
    """Upload every file as the queue allows and wait for all; (rows imported, seconds)."""
    started = time.perf_counter()
    pending: list[int] = []
    done = 0
    waiting = next(contents, None)
    while waiting is not None or pending:
        if waiting is not None:
            batch = api.upload(waiting)
            if batch is not None:
                pending.append(batch)
                waiting = next(contents, None)
                continue
        still = []
        for batch in pending:
            status = api.status(batch)
            if status["status"] in ("Complete", "Failed"):
                if status["status"] == "Failed" or status["numOfRowsFailed"]:
                    raise RuntimeError(f"import {batch}: {status}")
                done += status["numOfLeadsProcessed"]
            else:
                still.append(batch)
        pending = still
        time.sleep(0.2)
    return done, time.perf_counter() - started


def soap_calls(endpoint: str, stop: threading.Event, latencies: list[float]) -> None:
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=120)
    i = 50_000_000
    while not stop.is_set():
        body = sync_envelope(range(i, i + 10))
        i += 10
        started = time.perf_counter()
        conn.request("POST", url.path, body=body, headers={"Content-Type": "text/xml"})
        answer = conn.getresponse()
        answer.read()
        latencies.append(time.perf_counter() - started)
        if answer.status != 200:
            raise RuntimeError(f"syncMultipleLeads answered {answer.status}")
    conn.close()


def export_all(api: Api, expected: int) -> Figures:
    now = datetime.now(UTC)
    window = {"startAt": (now - timedelta(days=1)).isoformat(), "endAt": now.isoformat()}
    fields = ["id", "email", "firstName", "lastName", "company", "title", "phone", "city"]
    fields += ["state", "country"]
    created = api.json(
        "POST",
        "/bulk/v1/leads/export/create.json",
        {"fields": fields, "format": "CSV", "filter": {"createdAt": window}},
    )
    export_id = created["result"][0]["exportId"]
    started = time.perf_counter()
    api.json("POST", f"/bulk/v1/leads/export/{export_id}/enqueue.json")
    while True:
        status = api.json("GET", f"/bulk/v1/leads/export/{export_id}/status.json")["result"][0]
        if status["status"] in ("Completed", "Failed", "Canceled"):
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if status["status"] != "Completed":
        raise RuntimeError(f"export: {status}")
    return Figures("bulk extract, 10 fields", status["numberOfRecords"], seconds, [])


def percentiles(latencies: list[float]) -> str:
    if not latencies:
        return "no calls"
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(lat)} calls)"


def peak_rss_mb(pid: int) -> float:
    """VmHWM of the process and its children (the workers), in MB."""
    total = 0
    pids = [pid]
    while pids:
        one = pids.pop()
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{one}/task").iterdir():
                children = (task / "children").read_text().split()
                pids += [int(child) for child in children]
        except OSError:
            continue
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process and its children (the workers) so far: on a
    shared machine, CPU per row varies less than rows per second."""
    total = 0
    pids = [pid]
    while pids:
        one = pids.pop()
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{one}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def server_pid(port: int) -> int:
    """The process listening on ``port`` (the benchmark's own child)."""
    inode = None
    hexport = f"{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[1].endswith(":" + hexport) and parts[3] == "0A":
            inode = parts[9]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) == f"socket:[{inode}]":
                    return int(proc.name)
        except OSError:
            continue
    raise RuntimeError("no server process found")


def run(database_url: str, label: str, rows: int, folder: Path) -> dict[str, float]:
    cli(
        "services", "add", "bench", "--client-id", CLIENT_ID,
        "--client-secret", CLIENT_SECRET, "--database", database_url,
    )  # fmt: skip
    half = rows // 2
    with server(database_url, "--bulk-dir", str(folder / f"jobs-{label}")) as endpoint:
        base = endpoint.split("/soap/", 1)[0]
        pid = server_pid(urlsplit(base).port or 0)
        api = Api(base)
        import_all(api, files(iter(range(half)), 0))
        stop = threading.Event()
        latencies: list[float] = []
        caller = threading.Thread(target=soap_calls, args=(endpoint, stop, latencies))
        caller.start()
        updates_then_new = files(iter([*range(half), *range(half, rows)]), 1)
        cpu = cpu_seconds(pid)
        try:
            imported, seconds = import_all(api, updates_then_new)
        finally:
            stop.set()
            caller.join()
        cpu = cpu_seconds(pid) - cpu
        figures = Figures(f"bulk import {label}, 10 fields, half updates", imported, seconds, [])
        print(figures.line("rows"), flush=True)
        print(
            f"  server CPU during the import: {cpu:.1f} s,"
            f" {cpu * 1e6 / max(imported, 1):.0f} µs per row (SOAP calls included)"
        )
        print(f"  syncMultipleLeads (10 leads) during the import: {percentiles(latencies)}")
        extract = export_all(api, rows)
        print(extract.line("leads"), flush=True)
        rss = peak_rss_mb(pid)
        print(f"  server peak RSS {label}: {rss:,.0f} MB", flush=True)
    lat = sorted(latencies) or [0.0]
    return {
        f"import_{label}_rows_per_s": figures.rate,
        f"extract_{label}_leads_per_s": extract.rate,
        f"sync_during_import_{label}_p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        f"server_{label}_peak_rss_mb": rss,
        f"import_{label}_server_cpu_us_per_row": cpu * 1e6 / max(imported, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--postgres", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.sqlite:
            results |= run(tmp_sqlite(folder, "bulk.db"), "SQLite", args.rows, folder)
        if args.postgres:
            url, drop = postgres_database()
            try:
                results |= run(url, "PostgreSQL", args.rows, folder)
            finally:
                drop()
    return results


def postgres_database() -> tuple[str, Callable[[], None]]:
    import psycopg
    from psycopg import sql

    name = f"leadsync_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


if __name__ == "__main__":
    main()
