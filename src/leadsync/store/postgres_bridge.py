"""PostgreSQL storage for bridge mode (store/bridge.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
from leadsync.store.handles import PostgresHandle
from leadsync.store.postgres_control import _WRITE_BEGIN


class _Held(Exception):
    """A key is held by another write: the transaction is rolled back."""


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
        # Sorted: two writes naming the same keys lock them in one order, so neither waits
        # for the other to let go of a key it needs itself.
        wanted = sorted(set(keys))
        try:
            with self._store._transaction(_WRITE_BEGIN) as conn:
                # A key another write is inserting waits for that write's commit, then counts
                # as present.
                inserted = {
                    row[0]
                    for row in conn.execute(
                        "INSERT INTO bridge_key_holds (key, holder, owner, until_ms)"
                        " SELECT k, %s, %s, %s FROM unnest(%s::text[]) WITH ORDINALITY AS t(k, n)"
                        " ORDER BY n ON CONFLICT (key) DO NOTHING RETURNING key",
                        (holder, owner, until_ms, wanted),
                    ).fetchall()
                }
                present = [key for key in wanted if key not in inserted]
                if not present:
                    return True
                # Locked, so that no other write takes these over meanwhile.
                holds = conn.execute(
                    "SELECT key, owner, until_ms FROM bridge_key_holds WHERE key = ANY(%s)"
                    " ORDER BY key FOR UPDATE",
                    (present,),
                ).fetchall()
                # A hold let go of since the insert is gone: it is tried again from the start.
                if len(holds) != len(present) or blocking(holds, now_ms, dead):
                    raise _Held()
                conn.execute(
                    "UPDATE bridge_key_holds SET holder = %s, owner = %s, until_ms = %s"
                    " WHERE key = ANY(%s)",
                    (holder, owner, until_ms, present),
                )
        except _Held:
            return False
        return True

    def free_keys(self, holder: str) -> None:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute("DELETE FROM bridge_key_holds WHERE holder = %s", (holder,))
