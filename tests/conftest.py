from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Server, running_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server process shared by tests that use their own unique emails."""
    with running_server(tmp_path_factory.mktemp("server")) as srv:
        yield srv


@pytest.fixture(scope="session")
def lenient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose timestamp window admits the docs' 2013 examples verbatim."""
    with running_server(tmp_path_factory.mktemp("lenient"), "--auth-window", "2000000000") as srv:
        yield srv


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A server on an empty database, for tests that count every lead."""
    with running_server(tmp_path) as srv:
        yield srv
