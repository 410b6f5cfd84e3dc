"""Server fixtures: a real ``leadsync serve`` process, once per storage backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backends import BACKENDS, postgres_database, skip_postgres
from support import Server, running_server


@contextmanager
def _server_on(backend: str, tmp: Path) -> Iterator[Server]:
    if backend == "sqlite":
        with running_server(tmp) as srv:
            yield srv
        return
    if skip_postgres():
        pytest.skip("LEADSYNC_TEST_SKIP_POSTGRES=1")
    with postgres_database() as url, running_server(tmp, database_url=url) as srv:
        yield srv


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One real server process per backend, shared by tests that use their own unique keys."""
    with _server_on(request.param, tmp_path_factory.mktemp("server")) as srv:
        yield srv


@pytest.fixture(params=BACKENDS)
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server on an empty database, for tests that count every lead."""
    with _server_on(request.param, tmp_path) as srv:
        yield srv


@pytest.fixture(scope="session")
def lenient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose timestamp window admits the docs' 2013 examples verbatim."""
    with running_server(tmp_path_factory.mktemp("lenient"), "--auth-window", "2000000000") as srv:
        yield srv
