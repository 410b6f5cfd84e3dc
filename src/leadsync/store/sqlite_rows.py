"""Writing many rows to SQLite at a low cost in GIL time.

Under load the writer holds the write lock every other call waits for, and each time it
lets go of the GIL (every statement step, so every row of an ``executemany``) another
thread may take the GIL for a while. Inserts and updates therefore run as one statement
over a JSON array of the rows (updates as ``UPDATE ... FROM``, SQLite 3.33).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
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


class JsonUpdate:
    """``UPDATE table SET columns WHERE key = ...`` of many rows in one statement step: each
    row is its new values, then its key, travelling as in ``JsonInsert``."""

    def __init__(self, table: str, columns: Sequence[str], key: str) -> None:
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        self.sql = (
            f"UPDATE {table} SET ({', '.join(columns)}) = ({values})"
            f" FROM json_each(?) WHERE {table}.{key} = json_extract(value, '$[{len(columns)}]')"
        )

    def run(self, conn: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Writes ``rows``; of several rows for one key, the last is written."""
        # UPDATE ... FROM writes one of a key's rows, not saying which.
        last = {row[-1]: row for row in rows}
        if last:
            conn.execute(self.sql, (orjson.dumps(list(last.values())).decode(),))
