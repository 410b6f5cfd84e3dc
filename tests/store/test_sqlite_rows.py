"""Rows written by the helpers read back exactly as if every value had been bound."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from leadsync.store.sqlite_rows import JsonInsert, SparseUpdate

ROWS = [
    (1, "a", None, "x"),
    (2, None, None, "y"),
    (3, "c", 3.5, None),
    (4, "d", None, "z"),
    (5, None, -(2**63), None),
    (6, 'f\u00e9"\n', None, "w"),
]


def table(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "rows.db", isolation_level=None)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, k, a, b, c)")
    return conn


def test_an_insert_stores_nulls_and_keeps_the_order(tmp_path: Path) -> None:
    conn = table(tmp_path)
    JsonInsert("t", ("k", "a", "b", "c")).run(conn, ROWS)
    # Ids come from AUTOINCREMENT, so they show the rows went in as given.
    assert conn.execute("SELECT k, a, b, c FROM t ORDER BY id").fetchall() == ROWS
    assert conn.execute("SELECT count(*) FROM t WHERE b IS NULL").fetchone() == (4,)
    conn.close()


def test_an_insert_stores_objects_and_arrays_as_json(tmp_path: Path) -> None:
    conn = table(tmp_path)
    values = {"x": 0.1, "y": [1, "two", None], "z": "é\u2028", "w": 1e308}
    JsonInsert("t", ("k", "a")).run(conn, [(1, values), (2, [["Lead ID", "2"]])])
    rows = conn.execute("SELECT a FROM t ORDER BY id").fetchall()
    assert orjson.loads(rows[0][0]) == values
    assert orjson.loads(rows[1][0]) == [["Lead ID", "2"]]
    conn.close()


def test_an_update_sets_nulls(tmp_path: Path) -> None:
    conn = table(tmp_path)
    JsonInsert("t", ("k", "a", "b", "c")).run(conn, [(k, "old", 1, "old") for k in range(1, 7)])
    update = SparseUpdate("t", ("a", "b", "c"), key="k")
    update.run(conn, [(a, b, c, k) for k, a, b, c in ROWS])
    assert conn.execute("SELECT k, a, b, c FROM t ORDER BY k").fetchall() == ROWS
    conn.close()


def test_no_rows_write_nothing(tmp_path: Path) -> None:
    conn = table(tmp_path)
    JsonInsert("t", ("k", "a")).run(conn, [])
    SparseUpdate("t", ("a",), key="k").run(conn, [])
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    conn.close()
