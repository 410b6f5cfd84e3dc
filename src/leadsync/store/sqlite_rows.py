"""Writing many rows to SQLite at a low cost in GIL time.

Under load the writer holds the write lock every other call waits for, and each time it
lets go of the GIL (every statement step, so every row of an ``executemany``) another
thread may take the GIL for a while. Inserts therefore run as one statement over a JSON
array of the rows. Updates, which need ``UPDATE ... FROM`` for that (SQLite 3.33), stay an
``executemany`` without NULL parameters: Python's sqlite3 module binds ``None`` only after
looking for an adapter for it, raising and clearing two exceptions inside the module for
each, while ``col = NULL`` in the statement costs nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from itertools import compress
from operator import is_not
from typing import Any

import orjson


class JsonInsert:
    """``INSERT INTO table (columns)`` of many rows in one statement step.

    The rows travel as one JSON array read by ``json_each``: one parameter is bound, and
    the statement runs in one step. A dict or list value is stored as its JSON text, None
    as NULL; rows are inserted in their order.
    """

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        self.sql = (
            f"INSERT INTO {table} ({', '.join(columns)})"
            f" SELECT {values} FROM json_each(?) ORDER BY key"
        )

    def run(self, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            conn.execute(self.sql, (orjson.dumps(rows).decode(),))


class SparseUpdate:
    """``UPDATE table SET columns WHERE key = ?``: each row is its new values, then its key.

    Each run of rows with the same NULLs is one ``executemany`` of a statement that writes
    those NULLs itself.
    """

    def __init__(self, table: str, columns: Sequence[str], key: str) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.key = key
        self._nones = (None,) * len(self.columns)
        self._statements: dict[tuple[bool, ...], str] = {}

    def statement(self, present: tuple[bool, ...]) -> str:
        sql = self._statements.get(present)
        if sql is None:
            sets = ", ".join(
                f"{name} = ?" if there else f"{name} = NULL"
                for name, there in zip(self.columns, present, strict=True)
            )
            sql = self._statements[present] = f"UPDATE {self.table} SET {sets} WHERE {self.key} = ?"
        return sql

    def run(self, conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
        """Writes ``rows`` in their order."""
        nones = self._nones
        current: tuple[bool, ...] = ()
        keep: tuple[bool, ...] = ()
        run: list[tuple[Any, ...]] = []
        for row in rows:
            # map() stops with ``columns``, before the key, which is always kept.
            present = tuple(map(is_not, row, nones))
            if present != current:
                if run:
                    conn.executemany(self.statement(current), run)
                current, keep, run = present, (*present, True), []
            run.append(tuple(compress(row, keep)))
        if run:
            conn.executemany(self.statement(current), run)
