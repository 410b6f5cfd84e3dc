"""Helpers for limit and fault tests against a real server: sync calls, the admin API."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from support import Endpoint, cli, envelope, fault, lead_record, sync_params

TOKEN = "test-admin-token"
_emails = itertools.count()


def unique_email(tag: str = "lim") -> str:
    return f"{tag}-{next(_emails)}@limits.example.com"


#: One client for every call: a new httpx client costs tens of milliseconds (TLS set-up).
HTTP = httpx.Client(timeout=60)


def sync_one(
    server: Endpoint, email: str | None = None, *, user: str | None = None, key: str | None = None
) -> httpx.Response:
    body = envelope(
        "syncMultipleLeads",
        sync_params([lead_record(email or unique_email())]),
        user or server.user_id,
        key or server.key,
    )
    return server.http.post(
        server.endpoint, content=body.encode(), headers={"Content-Type": "text/xml; charset=utf-8"}
    )


def outcome(response: httpx.Response) -> int:
    """0 for a success, else the fault's Marketo code."""
    if response.status_code == 200:
        return 0
    return fault(response).code


def outcomes_in_parallel(
    server: Endpoint,
    count: int,
    *,
    threads: int = 16,
    user: str | None = None,
    key: str | None = None,
) -> list[int]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: outcome(sync_one(server, user=user, key=key)), range(count)))


def admin(
    server: Endpoint, method: str, path: str, body: Any = None, token: str = TOKEN, **params: Any
) -> httpx.Response:
    return server.http.request(
        method,
        f"{server.base_url}/admin{path}",
        json=body,
        params=params or None,
        headers={"Authorization": f"Bearer {token}"},
    )


def admin_json(server: Endpoint, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = admin(server, method, path, body, **params)
    assert response.status_code in (200, 201), response.text
    return response.json()


def usage(server: Endpoint, user: str | None = None) -> dict[str, Any]:
    rows = admin_json(server, "GET", "/usage", user=user or server.user_id)["usage"]
    assert len(rows) == 1, rows
    row: dict[str, Any] = rows[0]
    return row


def set_user_limits(database_url: str, user: str, *flags: str) -> None:
    done = cli("users", "update", user, *flags, "--database", database_url)
    assert done.returncode == 0, done.stderr


def counts(results: Iterable[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for code in results:
        found[code] = found.get(code, 0) + 1
    return found


def emails(server: Endpoint) -> Sequence[str]:
    leads = admin_json(server, "GET", "/leads", limit=1000)["leads"]
    return [lead["email"] for lead in leads]
