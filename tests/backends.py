"""Database URLs for tests that must hold on every storage backend.

A conftest that wants its tests run on SQLite and on PostgreSQL imports the fixtures (tests/
is on sys.path through its rootdir conftest, as for ``support``)::

    from backends import (  # noqa: F401
        database_url, postgres_database_url, postgres_store, postgres_url, store,
    )

``database_url`` is parametrized over ``BACKENDS``; each test gets an empty database.
PostgreSQL comes from ``LEADSYNC_TEST_POSTGRES_URL`` (default: trust auth on
127.0.0.1:5432/test); one scratch database is created per session and dropped afterwards,
and every test gets its own schema in it. When PostgreSQL cannot be reached the tests fail;
``LEADSYNC_TEST_SKIP_POSTGRES=1`` skips them instead.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from leadsync.store import open_store
from leadsync.store.base import Store
from leadsync.store.sqlite import SQLiteStore, path_from_url

BACKENDS = ("sqlite", "postgres")
ADMIN_URL = os.environ.get(
    "LEADSYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def skip_postgres() -> bool:
    return os.environ.get("LEADSYNC_TEST_SKIP_POSTGRES") == "1"


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'leadsync.db'}"


def _with_dbname(url: str, dbname: str) -> str:
    """``url`` pointing at another database on the same server."""
    scheme, _, rest = url.partition("://")
    authority, _, path = rest.partition("/")
    query = path.partition("?")[2]
    return f"{scheme}://{authority}/{dbname}" + (f"?{query}" if query else "")


@contextmanager
def postgres_database(admin_url: str = ADMIN_URL) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url``; dropped on exit."""
    name = f"leadsync_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_dbname(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            # FORCE ends sessions a failed test may have left behind.
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def postgres_schema(database_url: str, *, drop: bool = True) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema of ``database_url``.

    Much cheaper than a database per test, and just as isolated for leadsync, which names
    its tables without a schema. ``drop=False`` leaves the schema for the scratch database's
    own drop at the end of the session, which saves a test a catalogue-wide DROP CASCADE.
    """
    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options={quote(f'-csearch_path={name}')}"
    finally:
        if drop:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def backend_of(url: str) -> str:
    """The migrations folder name of the backend that ``url`` names."""
    return "sqlite" if url.startswith("sqlite") else "postgres"


def open_unmigrated(url: str) -> Store:
    """A store on ``url`` before any migration (``open_store`` would migrate or refuse)."""
    if backend_of(url) == "sqlite":
        return SQLiteStore(url)
    from leadsync.store.postgres import PostgresStore

    return PostgresStore(url)


def force_schema_version(url: str, version: int) -> None:
    """Record ``version`` as applied, as a newer leadsync would have."""
    if backend_of(url) == "sqlite":
        with sqlite3.connect(path_from_url(url)) as conn:
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
                (version,),
            )
        conn.close()
    else:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, 'future')", (version,)
            )


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    if skip_postgres():
        pytest.skip("LEADSYNC_TEST_SKIP_POSTGRES=1")
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=5):
            pass
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL is unreachable at {ADMIN_URL} ({exc}); start it, point"
            " LEADSYNC_TEST_POSTGRES_URL at one, or set LEADSYNC_TEST_SKIP_POSTGRES=1"
        )
    with postgres_database() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_database_url: str) -> Iterator[str]:
    # The session's scratch database is dropped whole at the end, schemas included.
    with postgres_schema(postgres_database_url, drop=False) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An open, migrated store on an empty database, once per backend."""
    opened = open_store(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Store]:
    opened = open_store(postgres_url)
    try:
        yield opened
    finally:
        opened.close()
