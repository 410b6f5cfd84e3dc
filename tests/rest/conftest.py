"""In-process REST tests: the ASGI app on a store of each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from restapp import Rest, make_rest

from backends import database_url, postgres_database_url, postgres_url, store  # noqa: F401
from leadsync.store.base import Store


@pytest.fixture
def rest(store: Store) -> Iterator[Rest]:  # noqa: F811
    yield from make_rest(store)
