"""In-process bulk API tests on a store of each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bulkapp import Bulk, bulk_on

from backends import database_url, postgres_database_url, postgres_url, store  # noqa: F401
from leadsync.store.base import Store


@pytest.fixture
def bulk(store: Store, tmp_path: Path) -> Iterator[Bulk]:  # noqa: F811
    yield from bulk_on(store, tmp_path / "jobs")
