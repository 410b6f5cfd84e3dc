"""SQLite storage for bridge mode (store/bridge.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from leadsync.store.base import iter_chunks
from leadsync.store.bridge import (
    BridgeStore,
    JournalEntry,
    UpstreamToken,
    blocking,
    journal_insert_sql,
    journal_page_sql,
    journal_params,
    row_to_entry,
)
from leadsync.store.handles import SQLiteHandle


class SQLiteBridge(BridgeStore):
    def __init__(self, store: SQLiteHandle) -> None:
        self._store = store

    def token(self, key: str) -> UpstreamToken | None:
        rows = self._store._fetch(
            "SELECT token, expires_ms FROM bridge_tokens WHERE upstream = ?", (key,)
        )
        return UpstreamToken(rows[0][0], int(rows[0][1])) if rows else None

    def save_token(self, key: str, token: UpstreamToken) -> None:
        with self._store._transaction() as conn:
            conn.execute(
                "INSERT INTO bridge_tokens (upstream, token, expires_ms) VALUES (?, ?, ?)"
                " ON CONFLICT (upstream) DO UPDATE SET token = excluded.token,"
                " expires_ms = excluded.expires_ms",
                (key, token.token, token.expires_ms),
            )

    def forget_token(self, key: str, token: str) -> None:
        with self._store._transaction() as conn:
            conn.execute("DELETE FROM bridge_tokens WHERE upstream = ? AND token = ?", (key, token))

    def add_journal(self, entry: JournalEntry) -> None:
        with self._store._transaction() as conn:
            conn.execute(journal_insert_sql("?"), journal_params(entry))

    def journal(
        self,
        *,
        since_ms: int | None = None,
        failed_only: bool = False,
        limit: int = 10_000,
        newest_first: bool = False,
    ) -> list[JournalEntry]:
        sql, params = journal_page_sql(since_ms, failed_only, "?", newest_first)
        return [row_to_entry(row) for row in self._store._fetch(sql, (*params, limit))]

    def trim_journal(self, before_ms: int) -> int:
        with self._store._transaction() as conn:
            return conn.execute("DELETE FROM bridge_journal WHERE at_ms < ?", (before_ms,)).rowcount

    def hold_keys(
        self,
        keys: Sequence[str],
        holder: str,
        owner: str,
        *,
        now_ms: int,
        until_ms: int,
        dead: Callable[[str], bool],
    ) -> bool:
        wanted = sorted(set(keys))
        # BEGIN IMMEDIATE: no other process reads or writes holds until this commits.
        with self._store._transaction() as conn:
            for chunk in iter_chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                holds = conn.execute(
                    f"SELECT key, owner, until_ms FROM bridge_key_holds WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                if blocking(holds, now_ms, dead):
                    return False
            conn.executemany(
                "INSERT INTO bridge_key_holds (key, holder, owner, until_ms) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET holder = excluded.holder,"
                " owner = excluded.owner, until_ms = excluded.until_ms",
                [(key, holder, owner, until_ms) for key in wanted],
            )
        return True

    def free_keys(self, holder: str) -> None:
        with self._store._transaction() as conn:
            conn.execute("DELETE FROM bridge_key_holds WHERE holder = ?", (holder,))
