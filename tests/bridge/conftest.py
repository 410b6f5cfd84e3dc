"""Bridge tests: the bridge is the app in this process (``serving_app``) with
``upstream_url`` set; its upstream is a second leadsync, a real ``leadsync serve`` process
serving the REST API (``leadsync.testing.start_server``), shared by the session and emptied
before each test.

The upstream has a custom string field ``foreignId``: the bridge's foreign-id field.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bridgekit import FOREIGN_FIELD, bridge_settings, on_upstream

from inprocess import AppServer, serving_app
from leadsync.model import FieldDef, FieldType
from leadsync.store import open_store
from leadsync.testing import LeadsyncServer, start_server
from support import Server, running_server


@pytest.fixture(scope="session")
def upstream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LeadsyncServer]:
    started = start_server(tmp_path_factory.mktemp("upstream"))
    store = open_store(started.database_url)
    try:
        store.add_custom_field(FieldDef(FOREIGN_FIELD, FieldType.STRING, custom=True))
    finally:
        store.close()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def upstream(upstream_server: LeadsyncServer) -> LeadsyncServer:
    upstream_server.reset()
    return upstream_server


@pytest.fixture
def bridge(upstream: LeadsyncServer, tmp_path: Path) -> Iterator[AppServer]:
    """The bridge on a new SQLite file; ``bridge.database_url`` is the bridge's own."""
    with serving_app(tmp_path, **bridge_settings(upstream)) as app:
        yield app


@pytest.fixture(scope="session")
def bridge_process(
    upstream_server: LeadsyncServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A real ``leadsync serve --upstream`` process, for real SOAP clients."""
    flags = [
        *("--upstream", upstream_server.base_url),
        *("--upstream-client-id", upstream_server.client_id),
        *("--upstream-client-secret", upstream_server.client_secret),
        *("--foreign-id-field", FOREIGN_FIELD),
    ]
    with running_server(tmp_path_factory.mktemp("bridge"), *flags) as srv:
        yield on_upstream(srv, upstream_server)
