"""PostgreSQL storage for bridge mode (store/bridge.py)."""

from __future__ import annotations

from leadsync.store.bridge import (
    BridgeStore,
    JournalEntry,
    UpstreamToken,
    journal_insert_sql,
    journal_page_sql,
    journal_params,
    row_to_entry,
)
from leadsync.store.handles import PostgresHandle
from leadsync.store.postgres_control import _WRITE_BEGIN


class PostgresBridge(BridgeStore):
    def __init__(self, store: PostgresHandle) -> None:
        self._store = store

    def token(self, key: str) -> UpstreamToken | None:
        rows = self._store._fetch(
            "SELECT token, expires_ms FROM bridge_tokens WHERE upstream = %s", (key,)
        )
        return UpstreamToken(rows[0][0], int(rows[0][1])) if rows else None

    def save_token(self, key: str, token: UpstreamToken) -> None:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute(
                "INSERT INTO bridge_tokens (upstream, token, expires_ms) VALUES (%s, %s, %s)"
                " ON CONFLICT (upstream) DO UPDATE SET token = excluded.token,"
                " expires_ms = excluded.expires_ms",
                (key, token.token, token.expires_ms),
            )

    def forget_token(self, key: str, token: str) -> None:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute(
                "DELETE FROM bridge_tokens WHERE upstream = %s AND token = %s", (key, token)
            )

    def add_journal(self, entry: JournalEntry) -> None:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute(journal_insert_sql("%s"), journal_params(entry))

    def journal(
        self,
        *,
        since_ms: int | None = None,
        failed_only: bool = False,
        limit: int = 10_000,
        newest_first: bool = False,
    ) -> list[JournalEntry]:
        sql, params = journal_page_sql(since_ms, failed_only, "%s", newest_first)
        return [row_to_entry(row) for row in self._store._fetch(sql, (*params, limit))]

    def trim_journal(self, before_ms: int) -> int:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            cur = conn.execute("DELETE FROM bridge_journal WHERE at_ms < %s", (before_ms,))
            return cur.rowcount
