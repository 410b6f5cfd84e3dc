"""The SOAP operations' rules run in this process: here ``server``, ``fresh_server`` and
``lenient_server`` are the app itself (tests/conftest.py), on SQLite and PostgreSQL.
Tests that take ``store`` or ``service`` run once per backend (see tests/backends.py).

Tests here that need a real process (kill -9, several workers) start one with
``support.running_server``.
"""

from __future__ import annotations

import pytest

from backends import (  # noqa: F401
    database_url,
    postgres_database_url,
    postgres_url,
    store,
)
from inprocess import AppServer
from leadsync.config import Settings
from leadsync.soap.endpoint import SoapService
from leadsync.store.base import Store
from support import DEMO_KEY, DEMO_USER


@pytest.fixture(scope="session")
def server(app_server: AppServer) -> AppServer:
    return app_server


@pytest.fixture
def fresh_server(fresh_app_server: AppServer) -> AppServer:
    return fresh_app_server


@pytest.fixture(scope="session")
def lenient_server(lenient_app_server: AppServer) -> AppServer:
    return lenient_app_server


@pytest.fixture
def service(store: Store) -> SoapService:  # noqa: F811
    """The SOAP service on an empty store, the demo user added; no HTTP, no process."""
    store.add_user(DEMO_USER, DEMO_KEY)
    return SoapService(store, Settings())
