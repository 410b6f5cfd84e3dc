"""Stores raise leadsync's own errors, never their driver's, on every backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from leadsync.errors import StoreError
from leadsync.store import Store
from leadsync.store.calls import CallQuery
from leadsync.store.sqlite import SQLiteStore, path_from_url
from support import cli


def _drop(url: str, table: str) -> None:
    """Drop ``table`` behind the store's back, as a careless operator might."""
    if url.startswith("sqlite"):
        with sqlite3.connect(path_from_url(url)) as conn:
            conn.execute(f"DROP TABLE {table}")
        conn.close()
    else:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(f"DROP TABLE {table} CASCADE")


def _read_leads(store: Store) -> object:
    with store.read() as reader:
        return reader.leads_by_ids([1])


def _write_leads(store: Store) -> object:
    with store.write() as writer:
        return writer.newest_leads_by_email(["a@example.com"])


@pytest.mark.parametrize(
    ("table", "call"),
    [
        ("api_users", lambda s: s.list_users()),
        ("api_users", lambda s: s.get_user("bob")),
        ("api_users", lambda s: s.add_user("bob", "k")),
        ("custom_fields", lambda s: s.custom_fields()),
        ("fault_rules", lambda s: s.faults().rules()),
        ("user_limits", lambda s: s.limits().overrides("bob")),
        ("user_limits", lambda s: s.limits().limited_users()),
        ("calls", lambda s: s.calls().page(CallQuery(), 10)),
        ("calls", lambda s: s.calls().get(1)),
        ("rest_services", lambda s: s.services().list_services()),
        ("rest_services", lambda s: s.services().get_service("c")),
        ("rest_tokens", lambda s: s.services().find_token("t")),
        ("leads", _read_leads),
        ("leads", _write_leads),
    ],
)
def test_a_driver_error_reaches_callers_as_a_store_error(
    store: Store, database_url: str, table: str, call: Callable[[Store], object]
) -> None:
    _drop(database_url, table)
    with pytest.raises(StoreError) as raised:
        call(store)
    assert type(raised.value) is StoreError
    assert isinstance(raised.value.__cause__, sqlite3.Error | psycopg.Error)
    message = str(raised.value)
    assert message.startswith(("SQLite database ", "PostgreSQL at "))
    assert table in message
    assert "\n" not in message


def test_a_file_that_is_no_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"shopping list: milk, eggs\n" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        SQLiteStore(f"sqlite:///{path}", create=False)
    listed = cli("users", "list", "--database", f"sqlite:///{path}")
    assert listed.returncode == 1
    assert listed.stderr.startswith("Error: ")
    assert listed.stderr.endswith(f"{path}: file is not a database\n")
    assert listed.stderr.count("\n") == 1
