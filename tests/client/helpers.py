"""Small helpers shared by the client and CLI tests."""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from leadsync.client import Client
from support import Server


def fast_client(endpoint: str, server: Server, **kw: Any) -> Client:
    """A client that retries quickly and has no rate budget (tests are not Marketo)."""
    options: dict[str, Any] = {"rate_limit": None, "backoff_base": 0.01, "backoff_max": 0.05}
    options.update(kw)
    return Client(endpoint, server.user_id, server.key, **options)


def leads(prefix: str, count: int, **attrs: str) -> list[dict[str, object]]:
    return [
        {"Email": f"{prefix}-{i}@example.com", "FirstName": f"F{i}", **attrs} for i in range(count)
    ]


def emails_in_db(server: Server, like: str) -> Counter[str]:
    """How many leads hold each email matching ``like`` (an SQL LIKE pattern)."""
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT email FROM leads WHERE email LIKE ?", (like,)).fetchall()
    return Counter(email for (email,) in rows)
