"""A pytest plugin: a real leadsync server for the tests of a Marketo SOAP integration.

Installing leadsync registers it (entry point ``pytest11``), so any test may ask for:

``leadsync_server``
    A ``LeadsyncServer``: one server process per test session, on a free port and a
    temporary SQLite database, emptied before each test (leads, fault rules, call counts,
    per-user limits).
``leadsync_server_factory``
    Starts servers of your own, with extra ``leadsync serve`` flags (for example
    ``"--marketo-limits"``); they stop when the test ends.

The ini option ``leadsync_serve_args`` adds flags to the shared server. docs/testing.md has
a worked example.

pytest imports this module in every session of everyone who has leadsync installed, so it
imports nothing but light parts of the standard library, pytest and the wire kit's signing
(HTTP support is imported when a server is first used); the server runs in a subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from leadsync.mktows import signing

__all__ = ["LeadsyncError", "LeadsyncServer", "start_server"]

_START_TIMEOUT_S = 30
_UNSET: Any = object()


class LeadsyncError(RuntimeError):
    """The test server could not start, or its admin API refused a request."""


@dataclass
class LeadsyncServer:
    """A running ``leadsync serve``, the API user to call its SOAP API with and the service
    (client id and secret) to call its REST API with."""

    base_url: str
    user_id: str
    encryption_key: str
    database_url: str
    admin_token: str
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)

    @property
    def endpoint(self) -> str:
        """The SOAP endpoint, as Marketo's would be ``https://xxx.mktoapi.com/soap/mktows/2_2``."""
        return f"{self.base_url}/soap/mktows/2_2"

    @property
    def wsdl_url(self) -> str:
        return self.endpoint + "?WSDL"

    @property
    def rest_url(self) -> str:
        """The REST base URL, as Marketo's would be ``https://xxx.mktorest.com/rest``."""
        return f"{self.base_url}/rest"

    @property
    def identity_url(self) -> str:
        """The identity base URL; tokens come from ``{identity_url}/oauth/token``."""
        return f"{self.base_url}/identity"

    # -- signing --------------------------------------------------------------------------
    def auth_header(self, timestamp: str | None = None) -> dict[str, str]:
        """The children of a signed ``AuthenticationHeader`` (fresh timestamp by default)."""
        ts = timestamp or signing.timestamp()
        signature = signing.sign(self.encryption_key, ts, self.user_id)
        return {
            "mktowsUserId": self.user_id,
            "requestSignature": signature,
            "requestTimestamp": ts,
        }

    # -- fault rules ----------------------------------------------------------------------
    def inject(self, rule: str | None = None, **fields: Any) -> dict[str, Any]:
        """Add a fault rule, as text (``"op=syncMultipleLeads,code=20023,times=2"``) or as
        keywords (``op="syncMultipleLeads", code=20023, times=2``); returns it as stored."""
        if rule is not None and fields:
            raise TypeError("give a rule's text or its fields, not both")
        body: Any = {"rule": rule} if rule is not None else fields
        added: list[dict[str, Any]] = self.admin("POST", "/faults", body)["faults"]
        return added[0]

    def faults(self) -> list[dict[str, Any]]:
        """Every fault rule, with how many calls it matched and fired on."""
        rules: list[dict[str, Any]] = self.admin("GET", "/faults")["faults"]
        return rules

    def clear_faults(self) -> int:
        removed: int = self.admin("DELETE", "/faults")["removed"]
        return removed

    # -- leads ----------------------------------------------------------------------------
    def leads(self, email: str | None = None) -> list[dict[str, Any]]:
        """Every stored lead (or those with this email), oldest first."""
        if email is not None:
            found: list[dict[str, Any]] = self.admin("GET", "/leads", query={"email": email})[
                "leads"
            ]
            return sorted(found, key=lambda lead: int(lead["id"]))
        leads: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.admin("GET", "/leads", query={"after": after, "limit": 1000})
            leads.extend(page["leads"])
            if page["next"] is None:
                return leads
            after = page["next"]

    def lead(self, lead_id: int) -> dict[str, Any] | None:
        found: list[dict[str, Any]] = self.admin("GET", "/leads", query={"id": lead_id})["leads"]
        return found[0] if found else None

    # -- limits ---------------------------------------------------------------------------
    def set_limits(
        self,
        *,
        daily_quota: int | None = _UNSET,
        rate: str | None = _UNSET,
        concurrency: int | None = _UNSET,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Set the API user's own limits: a number, ``rate="3/1s"``, 0 for none, or None for
        the server's setting. Returns the user's own and effective limits."""
        changes = {
            name: value
            for name, value in (
                ("daily_quota", daily_quota),
                ("rate", rate),
                ("concurrency", concurrency),
            )
            if value is not _UNSET
        }
        from urllib.parse import quote

        user = quote(user_id or self.user_id, safe="")
        limits: dict[str, Any] = self.admin("PUT", f"/users/{user}/limits", changes)
        return limits

    def usage(self, user_id: str | None = None) -> dict[str, Any]:
        """Calls and records today, calls in the rate window, calls in flight and rejects by
        code."""
        rows: list[dict[str, Any]] = self.admin(
            "GET", "/usage", query={"user": user_id or self.user_id}
        )["usage"]
        if rows:
            return rows[0]
        return {
            "calls_today": 0,
            "records_today": 0,
            "calls_in_window": 0,
            "in_flight": 0,
            "rejects": {},
        }

    # -- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Empty leads, activities and list memberships, remove every fault rule, forget call
        counts and put the API user's limits back to the server's."""
        self.admin("POST", "/reset", {"usage": True, "faults": True})
        self.set_limits(daily_quota=None, rate=None, concurrency=None)

    def log(self) -> str:
        """What the server has logged so far."""
        return self.log_path.read_text(errors="replace")

    def admin(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        """One request to the admin API; returns its JSON answer."""
        import urllib.error
        import urllib.parse
        import urllib.request

        url = f"{self.base_url}/admin{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: str(v) for k, v in query.items()})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.admin_token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, KeyError, TypeError):
                detail = json.loads(detail)["error"]
            raise LeadsyncError(f"{method} {path}: HTTP {exc.code}: {detail}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    # The server must not pick up the settings of whoever runs the tests.
    return {k: v for k, v in os.environ.items() if not k.startswith("LEADSYNC_")}


def start_server(
    folder: Path,
    *flags: str,
    user_id: str = "leadsync_test_user",
    encryption_key: str | None = None,
    client_id: str = "leadsync-test-client",
    client_secret: str | None = None,
    database_url: str | None = None,
) -> LeadsyncServer:
    """Start ``leadsync serve`` on a new SQLite database in ``folder`` (or on the empty
    database ``database_url`` names) and wait until it answers. Stop it with ``stop()``."""
    folder.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite:///{folder / 'leadsync.db'}"
    key = encryption_key or secrets.token_hex(20)
    secret = client_secret or secrets.token_hex(16)
    _add_user(database_url, user_id, key)
    _leadsync_cli(
        "services",
        "add",
        "tests",
        "--client-id",
        client_id,
        "--client-secret",
        secret,
        "--database",
        database_url,
        what="the REST API service",
    )
    token = secrets.token_urlsafe(24)
    env = {**_clean_env(), "LEADSYNC_ADMIN_TOKEN": token}
    for _attempt in range(3):
        port = _free_port()
        log_path = folder / f"leadsync-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "leadsync.cli", "serve"),
                    *("--host", "127.0.0.1", "--port", str(port), "--database", database_url),
                    *flags,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        server = LeadsyncServer(
            f"http://127.0.0.1:{port}",
            user_id,
            key,
            database_url,
            token,
            log_path,
            process,
            client_id,
            secret,
        )
        if _wait_until_up(server):
            return server
        if "address already in use" not in server.log():
            raise LeadsyncError(f"leadsync did not start:\n{server.log()}")
    raise LeadsyncError("leadsync found no free port")


def _add_user(database_url: str, user_id: str, key: str) -> None:
    _leadsync_cli(
        "users",
        "add",
        user_id,
        "--encryption-key",
        key,
        "--database",
        database_url,
        what="the API user",
    )


def _leadsync_cli(*args: str, what: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "leadsync.cli", *args],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=60,
    )
    if done.returncode != 0:
        raise LeadsyncError(f"could not create {what}: {done.stderr.strip()}")


def _wait_until_up(server: LeadsyncServer) -> bool:
    import urllib.request

    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(server.base_url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    server.stop()
    raise LeadsyncError(f"leadsync did not answer within {_START_TIMEOUT_S} s:\n{server.log()}")


# -- pytest hooks and fixtures ------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "leadsync_serve_args",
        type="args",
        default=[],
        help="Extra 'leadsync serve' flags for the leadsync_server fixture's server.",
    )


@pytest.fixture(scope="session")
def _leadsync_session_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LeadsyncServer]:
    flags: list[str] = list(request.config.getini("leadsync_serve_args"))
    server = start_server(tmp_path_factory.mktemp("leadsync"), *flags)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def leadsync_server(_leadsync_session_server: LeadsyncServer) -> LeadsyncServer:
    """A leadsync server with nothing in it but its API user (``user_id``,
    ``encryption_key``): no leads, no fault rules, no calls counted."""
    _leadsync_session_server.reset()
    return _leadsync_session_server


@pytest.fixture
def leadsync_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LeadsyncServer]]:
    """``start(*flags, user_id=..., encryption_key=...)`` starts a server of your own."""
    started: list[LeadsyncServer] = []

    def start(
        *flags: str, user_id: str = "leadsync_test_user", encryption_key: str | None = None
    ) -> LeadsyncServer:
        server = start_server(
            tmp_path_factory.mktemp("leadsync"),
            *flags,
            user_id=user_id,
            encryption_key=encryption_key,
        )
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
