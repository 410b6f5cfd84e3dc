"""Writing many rows to SQLite without binding NULLs.

Python's sqlite3 module binds ``None`` only after looking for an adapter for it, which
raises and clears two exceptions inside the module for every NULL parameter; a lead row
holds three NULLs at least (no foreign id, type or cookie), an activity row two. Leaving
those columns out of an INSERT (or writing ``col = NULL`` in an UPDATE) stores the same
NULL at a third of the cost. Rows in a batch mostly share one NULL pattern, so each run
of rows with the same pattern is one ``executemany`` of a statement made for it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from itertools import compress
from operator import is_not
from typing import Any


class _Sparse:
    """Rows of values for ``columns``, None meaning NULL, run pattern by pattern."""

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._nones = (None,) * len(self.columns)
        self._statements: dict[tuple[bool, ...], str] = {}

    def _sql(self, present: tuple[bool, ...]) -> str:
        raise NotImplementedError

    def statement(self, present: tuple[bool, ...]) -> str:
        sql = self._statements.get(present)
        if sql is None:
            sql = self._statements[present] = self._sql(present)
        return sql

    def run(self, conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
        """Writes ``rows`` in their order (ids given by AUTOINCREMENT follow it)."""
        nones = self._nones
        current: tuple[bool, ...] = ()
        keep: tuple[bool, ...] = ()
        run: list[tuple[Any, ...]] = []
        for row in rows:
            # map() stops with ``columns``: a key after them (SparseUpdate) is always kept.
            present = tuple(map(is_not, row, nones))
            if present != current:
                if run:
                    conn.executemany(self.statement(current), run)
                current, keep, run = present, (*present, True), []
            run.append(tuple(compress(row, keep)))
        if run:
            conn.executemany(self.statement(current), run)


class SparseInsert(_Sparse):
    """``INSERT INTO table (columns)``; a column given None must default to NULL."""

    def _sql(self, present: tuple[bool, ...]) -> str:
        names = list(compress(self.columns, present))
        return (
            f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        )


class SparseUpdate(_Sparse):
    """``UPDATE table SET columns WHERE key = ?``: each row is its new values, then its key."""

    def __init__(self, table: str, columns: Sequence[str], key: str) -> None:
        super().__init__(table, columns)
        self.key = key

    def _sql(self, present: tuple[bool, ...]) -> str:
        sets = ", ".join(
            f"{name} = ?" if there else f"{name} = NULL"
            for name, there in zip(self.columns, present, strict=True)
        )
        return f"UPDATE {self.table} SET {sets} WHERE {self.key} = ?"
