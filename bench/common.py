"""Shared pieces of the benchmarks: a server process, signed envelopes, timing figures."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from leadsync.mktows.signing import sign

USER = "bench_user"
KEY = "bench-key-0123456789"
MKTOWS = "http://www.marketo.com/mktows/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "leadsync.cli", *args], check=True, capture_output=True)


@contextmanager
def server(database_url: str, *flags: str, workers: int = 1) -> Iterator[str]:
    """A real ``leadsync serve`` process; yields its endpoint URL."""
    cli("users", "add", USER, "--encryption-key", KEY, "--database", database_url)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadsync.cli",
            "serve",
            "--port",
            str(port),
            "--database",
            database_url,
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            *flags,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, proc)
    try:
        yield base + "/soap/mktows/2_2"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_until_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    """Until the server at ``base`` answers /healthz; kills it if it never does."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"the server at {base} did not start") from None
            time.sleep(0.1)


def auth_header() -> str:
    ts = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        f"<ns1:AuthenticationHeader><mktowsUserId>{USER}</mktowsUserId>"
        f"<requestSignature>{sign(KEY, ts, USER)}</requestSignature>"
        f"<requestTimestamp>{ts}</requestTimestamp></ns1:AuthenticationHeader>"
    )


def envelope(wrapper: str, params: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{MKTOWS}">'
        f"<SOAP-ENV:Header>{auth_header()}</SOAP-ENV:Header>"
        f"<SOAP-ENV:Body><ns1:{wrapper}>{params}</ns1:{wrapper}></SOAP-ENV:Body>"
        "</SOAP-ENV:Envelope>"
    ).encode()


def lead_xml(i: int) -> str:
    attrs = {
        "FirstName": f"First{i}",
        "LastName": f"Last{i}",
        "Company": f"Company {i % 997}",
        "Title": "Engineer",
        "Phone": f"650-555-{i % 10000:04d}",
        "City": "Lyon",
        "State": "ARA",
        "Country": "France",
        "LeadScore": str(i % 100),
        "Website": f"www{i % 50}.example.com",
    }
    attr_xml = "".join(
        f"<attribute><attrName>{k}</attrName><attrValue>{v}</attrValue></attribute>"
        for k, v in attrs.items()
    )
    return (
        f"<leadRecord><Email>lead{i}@bench.example.com</Email>"
        f"<leadAttributeList>{attr_xml}</leadAttributeList></leadRecord>"
    )


def sync_envelope(indices: Sequence[int]) -> bytes:
    records = "".join(lead_xml(i) for i in indices)
    return envelope(
        "paramsSyncMultipleLeads",
        f"<leadRecordList>{records}</leadRecordList><dedupEnabled>true</dedupEnabled>",
    )


@dataclass
class Figures:
    name: str
    items: int
    seconds: float
    latencies: list[float]
    #: When each call ended (``time.perf_counter``), in the order they ended.
    ends: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    def line(self, unit: str = "leads") -> str:
        text = f"{self.name:<44} {self.rate:>10,.0f} {unit}/s"
        if self.latencies:
            lat = sorted(self.latencies)
            p50 = statistics.median(lat) * 1000
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
            text += f"   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   ({len(lat)} calls)"
        return text


def tmp_sqlite(folder: Path, name: str) -> str:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"
