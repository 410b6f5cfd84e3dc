"""The SOAP operations' rules run in this process: here ``server``, ``fresh_server`` and
``lenient_server`` are the app itself (tests/conftest.py), on SQLite and PostgreSQL.
Tests that take ``store`` run once per backend (see tests/backends.py).

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


@pytest.fixture(scope="session")
def server(app_server: AppServer) -> AppServer:
    return app_server


@pytest.fixture
def fresh_server(fresh_app_server: AppServer) -> AppServer:
    return fresh_app_server


@pytest.fixture(scope="session")
def lenient_server(lenient_app_server: AppServer) -> AppServer:
    return lenient_app_server
