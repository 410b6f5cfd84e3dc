"""Migrations and schema versions, on every backend."""

from __future__ import annotations

import pytest

from backends import backend_of, force_schema_version, open_unmigrated
from leadsync.errors import StoreUnavailable
from leadsync.store import Store, open_store
from leadsync.store.base import SchemaTooNew, SchemaTooOld
from leadsync.store.migrate import latest_version, load_migrations


def test_a_fresh_database_needs_migrating(database_url: str) -> None:
    with pytest.raises(SchemaTooOld):
        open_store(database_url, migrate=False)


def test_migrate_applies_every_migration_once(database_url: str) -> None:
    latest = latest_version(backend_of(database_url))
    store = open_unmigrated(database_url)
    try:
        shipped = [m.version for m in load_migrations(backend_of(database_url))]
        assert store.migrate() == shipped
        assert store.migrate() == []
        assert store.schema_version() == latest
    finally:
        store.close()
    reopened = open_store(database_url, migrate=False)
    try:
        assert reopened.schema_version() == latest
        assert reopened.migrate() == []
    finally:
        reopened.close()


def test_a_schema_newer_than_this_code_is_refused(database_url: str) -> None:
    open_store(database_url).close()
    force_schema_version(database_url, latest_version(backend_of(database_url)) + 1)
    store = open_unmigrated(database_url)
    try:
        with pytest.raises(SchemaTooNew):
            store.migrate()
        with pytest.raises(SchemaTooNew):
            store.schema_version()
    finally:
        store.close()
    with pytest.raises(SchemaTooNew):
        open_store(database_url)
    with pytest.raises(SchemaTooNew):
        open_store(database_url, migrate=False)


def test_features_describe_the_backend(store: Store) -> None:
    if backend_of(store.url) == "sqlite":
        assert (store.features.concurrent_writers, store.features.embedded) == (False, True)
    else:
        assert (store.features.concurrent_writers, store.features.embedded) == (True, False)


def test_a_database_that_cannot_be_opened_is_unavailable(database_url: str) -> None:
    if backend_of(database_url) == "sqlite":
        bad = "sqlite:////nonexistent-folder/leadsync.db"
    else:
        bad = "postgresql://nobody@127.0.0.1:1/x"
    with pytest.raises(StoreUnavailable) as caught:
        open_store(bad)
    assert "\n" not in str(caught.value)
