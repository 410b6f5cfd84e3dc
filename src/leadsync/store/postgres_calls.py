"""PostgreSQL storage for the calls history (store/calls.py)."""

from __future__ import annotations

from collections.abc import Sequence

from leadsync.store.calls import (
    CALL_COLUMNS,
    CallCount,
    CallEntry,
    CallQuery,
    CallStore,
    counts_sql,
    insert_params,
    insert_sql,
    page_sql,
    row_to_call,
    row_to_count,
    trim_sql,
)
from leadsync.store.handles import PostgresHandle
from leadsync.store.postgres_control import _WRITE_BEGIN


class PostgresCalls(CallStore):
    def __init__(self, store: PostgresHandle) -> None:
        self._store = store

    def record(self, entries: Sequence[CallEntry], keep: int) -> None:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            with conn.cursor() as cur:
                cur.executemany(insert_sql("%s"), [insert_params(e) for e in entries])
            conn.execute(trim_sql("%s"), (keep,))

    def page(self, query: CallQuery, limit: int) -> list[CallEntry]:
        sql, params = page_sql(query, limit, "%s")
        return [row_to_call(row) for row in self._store._fetch(sql, params)]

    def get(self, call_id: int) -> CallEntry | None:
        rows = self._store._fetch(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = %s", (call_id,))
        return row_to_call(rows[0]) if rows else None

    def counts_since(self, since_ms: int) -> list[CallCount]:
        return [row_to_count(row) for row in self._store._fetch(counts_sql("%s"), (since_ms,))]
