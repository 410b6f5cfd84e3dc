"""SQLite storage for the calls history (store/calls.py)."""

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
from leadsync.store.handles import SQLiteHandle


class SQLiteCalls(CallStore):
    def __init__(self, store: SQLiteHandle) -> None:
        self._store = store

    def record(self, entries: Sequence[CallEntry], keep: int) -> None:
        with self._store._transaction() as conn:
            conn.executemany(insert_sql("?"), [insert_params(e) for e in entries])
            conn.execute(trim_sql("?"), (keep,))

    def page(self, query: CallQuery, limit: int) -> list[CallEntry]:
        sql, params = page_sql(query, limit, "?")
        rows = self._store._fetch(sql, params)
        return [row_to_call(row) for row in rows]

    def get(self, call_id: int) -> CallEntry | None:
        rows = self._store._fetch(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = ?", (call_id,))
        return row_to_call(rows[0]) if rows else None

    def counts_since(self, since_ms: int) -> list[CallCount]:
        rows = self._store._fetch(counts_sql("?"), (since_ms,))
        return [row_to_count(row) for row in rows]
