"""Shared test helpers: a real server process, request signing, envelope building.

The in-process server (the ASGI app, no process) is in ``inprocess.py``; both are an
``Endpoint``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
from lxml import etree

from leadsync.mktows.signing import sign

DEMO_USER = "demo17_1_809934544BFABAE58E5D27"
DEMO_KEY = "27272727aa"
MKTOWS = "http://www.marketo.com/mktows/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
REPO = Path(__file__).resolve().parents[1]
#: Reference data the tests compare against, copied into the repository (tests/data/README.md).
DATA = REPO / "tests" / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(kw_only=True)
class Endpoint:
    """A leadsync answering HTTP: a real process (``Server``) or the app in this process
    (``inprocess.AppServer``). Tests written against this run on either."""

    base_url: str
    database_url: str
    #: Sends the requests; ``http.get(server.endpoint)`` etc. for anything but a SOAP call.
    http: httpx.Client
    user_id: str = DEMO_USER
    key: str = DEMO_KEY

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/soap/mktows/2_2"

    def log(self) -> str:
        raise NotImplementedError

    def post(self, body: str | bytes, **headers: str) -> httpx.Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = {"Content-Type": "text/xml; charset=utf-8", **headers}
        return self.http.post(self.endpoint, content=data, headers=hdrs)

    def call(self, operation: str, params_xml: str, **kwargs: Any) -> httpx.Response:
        """Sign and send ``params_xml`` (the wrapper's children) as ``operation``."""
        return self.post(envelope(operation, params_xml, self.user_id, self.key, **kwargs))


@dataclass(kw_only=True)
class Server(Endpoint):
    """A ``leadsync serve`` process."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def leadsync_cmd() -> list[str]:
    return [sys.executable, "-m", "leadsync.cli"]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*leadsync_cmd(), *args], capture_output=True, text=True, env=full_env, timeout=60, **kw
    )


def cli(
    *args: str, env: Mapping[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``leadsync ARGS`` run in this process through click's ``CliRunner``; the result reads as
    ``run_cli``'s. ``run_cli`` (a real process) is for what needs one: ``serve``, signals, the
    entry point itself."""
    from click.testing import CliRunner

    from leadsync.cli import main

    result = CliRunner().invoke(
        main, list(args), env=dict(env or {}), input=input, prog_name="leadsync"
    )
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


@contextmanager
def running_server(
    tmp: Path,
    *flags: str,
    database_url: str | None = None,
    users: Sequence[tuple[str, str]] = ((DEMO_USER, DEMO_KEY),),
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """A real ``leadsync serve`` process on a free port."""
    db = database_url or f"sqlite:///{tmp / 'leadsync.db'}"
    add_users(db, users)
    port = free_port()
    log_path = tmp / f"server-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*leadsync_cmd(), "serve", "--port", str(port), "--database", db, *flags],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server = Server(
        base_url=f"http://127.0.0.1:{port}",
        database_url=db,
        # No keep-alive: a test may kill the process, and a pooled connection must not outlive it.
        http=httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)),
        process=proc,
        log_path=log_path,
    )
    try:
        wait_until_up(server)
        yield server
    finally:
        server.http.close()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def add_users(database_url: str, users: Iterable[tuple[str, str]]) -> None:
    """API users added as ``leadsync users add`` does (tests/cli covers the command itself)."""
    from leadsync.store import open_store

    store = open_store(database_url)
    try:
        for user_id, key in users:
            store.add_user(user_id, key)
    finally:
        store.close()


def wait_until_up(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server did not start:\n{server.log()}")


def now_timestamp() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def auth_header(user_id: str, key: str, timestamp: str | None = None, prefix: str = "ns1") -> str:
    ts = timestamp or now_timestamp()
    return (
        f"<{prefix}:AuthenticationHeader><mktowsUserId>{escape(user_id)}</mktowsUserId>"
        f"<requestSignature>{sign(key, ts, user_id)}</requestSignature>"
        f"<requestTimestamp>{ts}</requestTimestamp></{prefix}:AuthenticationHeader>"
    )


def envelope(
    operation: str,
    params_xml: str,
    user_id: str = DEMO_USER,
    key: str = DEMO_KEY,
    *,
    timestamp: str | None = None,
    header: str | None = None,
    extra_headers: str = "",
) -> str:
    wrapper = "params" + operation[0].upper() + operation[1:]
    head = header if header is not None else auth_header(user_id, key, timestamp)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{MKTOWS}">'
        f"<SOAP-ENV:Header>{head}{extra_headers}</SOAP-ENV:Header>"
        f"<SOAP-ENV:Body><ns1:{wrapper}>{params_xml}</ns1:{wrapper}></SOAP-ENV:Body>"
        "</SOAP-ENV:Envelope>"
    )


def lead_record(
    email: str | None = None,
    attrs: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    *,
    id: int | None = None,
    fsp: str | None = None,
    fsp_type: str | None = None,
) -> str:
    parts = []
    if id is not None:
        parts.append(f"<Id>{id}</Id>")
    if fsp is not None:
        parts.append(f"<ForeignSysPersonId>{escape(fsp)}</ForeignSysPersonId>")
    if fsp_type is not None:
        parts.append(f"<ForeignSysType>{fsp_type}</ForeignSysType>")
    if email is not None:
        parts.append(f"<Email>{escape(email)}</Email>")
    items = attrs.items() if isinstance(attrs, Mapping) else attrs
    attr_xml = "".join(
        f"<attribute><attrName>{escape(n)}</attrName><attrValue>{escape(v)}</attrValue></attribute>"
        for n, v in items
    )
    if attr_xml:
        parts.append(f"<leadAttributeList>{attr_xml}</leadAttributeList>")
    return "<leadRecord>" + "".join(parts) + "</leadRecord>"


def sync_params(records: Sequence[str], dedup: str | None = "true") -> str:
    dedup_xml = f"<dedupEnabled>{dedup}</dedupEnabled>" if dedup is not None else ""
    return f"<leadRecordList>{''.join(records)}</leadRecordList>{dedup_xml}"


@dataclass(frozen=True)
class Status:
    lead_id: int
    status: str
    error: str | None


def statuses(response: httpx.Response) -> list[Status]:
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    found = []
    for el in root.iter("syncStatus"):
        error = el.find("error")
        nil = error is not None and error.get("{http://www.w3.org/2001/XMLSchema-instance}nil")
        found.append(
            Status(
                int(el.findtext("leadId") or "-1"),
                el.findtext("status") or "",
                None if error is None or nil == "true" else (error.text or ""),
            )
        )
    return found


@dataclass(frozen=True)
class Fault:
    faultcode: str
    faultstring: str
    code: int
    message: str
    name: str


def fault(response: httpx.Response) -> Fault:
    assert response.status_code == 500, (response.status_code, response.text)
    root = etree.fromstring(response.content)
    env = "{" + SOAP_ENV + "}"
    el = root.find(f"{env}Body/{env}Fault")
    assert el is not None, response.text
    exc = el.find("detail/{" + MKTOWS + "}serviceException")
    assert exc is not None, response.text
    return Fault(
        el.findtext("faultcode") or "",
        el.findtext("faultstring") or "",
        int(exc.findtext("code") or "0"),
        exc.findtext("message") or "",
        exc.findtext("name") or "",
    )


def stored_leads(database_url: str, ids: Iterable[int]) -> dict[int, Any]:
    """Leads as the database holds them, read with the store itself."""
    from leadsync.store import open_store

    store = open_store(database_url)
    try:
        with store.read() as reader:
            return dict(reader.leads_by_ids(list(ids)))
    finally:
        store.close()


def count_leads(database_url: str) -> int:
    from leadsync.store import open_store

    store = open_store(database_url)
    try:
        with store.read() as reader:
            return reader.count_leads()
    finally:
        store.close()
