from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from client.faultproxy import FaultProxy, fault_proxy
from support import Server, running_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The client cannot tell one storage backend from another: one SQLite server serves
    every client test (and lets the tests count leads in its database file)."""
    with running_server(tmp_path_factory.mktemp("client-server")) as srv:
        yield srv


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    with fault_proxy(server.base_url) as p:
        yield p


@pytest.fixture
def prefix() -> str:
    """A per-test email prefix, so tests can share one server."""
    return "t" + uuid.uuid4().hex[:10]
