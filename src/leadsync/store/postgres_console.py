"""PostgreSQL storage for the web console (store/console.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import psycopg

from leadsync.model import Lead
from leadsync.store.base import AlreadyExists
from leadsync.store.console import CONSOLE_USER_COLUMNS, ConsoleReads, ConsoleUser, Dialect
from leadsync.store.handles import PostgresHandle
from leadsync.store.postgres_control import _WRITE_BEGIN

_DIALECT = Dialect(
    mark="%s",
    attr=lambda name: f"(l.attrs ->> '{name}')",
    like="ILIKE",
    time=lambda at: at.astimezone(UTC),
)


class PostgresConsole(ConsoleReads):
    def __init__(self, store: PostgresHandle) -> None:
        self._store = store

    def _fetch(self, query: str, params: Sequence[Any]) -> list[Any]:
        return self._store._fetch(query, params)

    def _dialect(self) -> Dialect:
        return _DIALECT

    def _lead_columns(self) -> str:
        from leadsync.store.postgres import _L_LEAD_COLUMNS

        return _L_LEAD_COLUMNS

    def _row_to_lead(self, row: Any) -> Lead:
        from leadsync.store.postgres import _row_to_lead

        return _row_to_lead(row)

    def add_user(self, name: str, password_hash: str, created_ms: int) -> ConsoleUser:
        try:
            with self._store._transaction(_WRITE_BEGIN) as conn:
                conn.execute(
                    f"INSERT INTO console_users ({CONSOLE_USER_COLUMNS}) VALUES (%s, %s, %s)",
                    (name, password_hash, created_ms),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise AlreadyExists(f"console user {name!r} exists already") from exc
        return ConsoleUser(name, password_hash, created_ms)

    def remove_user(self, name: str) -> bool:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            return conn.execute("DELETE FROM console_users WHERE name = %s", (name,)).rowcount > 0

    def session_key(self, new_key: str) -> str:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute(
                "INSERT INTO console_keys (id, session_key) VALUES (1, %s) ON CONFLICT DO NOTHING",
                (new_key,),
            )
            row = conn.execute("SELECT session_key FROM console_keys WHERE id = 1").fetchone()
        assert row is not None
        return str(row[0])

    def database_bytes(self) -> int:
        return int(self._fetch("SELECT pg_database_size(current_database())", ())[0][0])
