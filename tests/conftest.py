"""Server fixtures, once per storage backend: in this process (``app_server``,
``fresh_app_server``, ``lenient_app_server``: the ASGI app, for the rules of each operation)
or as a real ``leadsync serve`` process (``server``, ``fresh_server``, ``lenient_server``: for
real clients, several workers, kill -9, the CLI end to end).

tests/soap/conftest.py points ``server`` and its siblings at the in-process ones there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backends import (  # noqa: F401
    BACKENDS,
    postgres_database,
    postgres_database_url,
    skip_postgres,
)
from inprocess import AppServer, app_on
from support import Server, running_server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-skips",
        action="store_true",
        help="fail the run if any test skips (make test: a fresh clone runs every test)",
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not session.config.getoption("--no-skips") or exitstatus != pytest.ExitCode.OK:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        reporter.write("\n")
        reporter.write_sep(
            "=", f"--no-skips: {len(skipped)} skipped, each must run (listed below)", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(scope="session", params=BACKENDS)
def app_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    """The app in this process, one per backend, shared by tests that use unique keys."""
    with app_on(request, request.param, tmp_path_factory.mktemp("app")) as app:
        yield app


@pytest.fixture(params=BACKENDS)
def fresh_app_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppServer]:
    """The app in this process on an empty database, for tests that count every lead."""
    with app_on(request, request.param, tmp_path) as app:
        yield app


@pytest.fixture(scope="session")
def lenient_app_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    """The app with a timestamp window that admits the docs' 2013 examples verbatim."""
    tmp = tmp_path_factory.mktemp("lenient-app")
    with app_on(request, "sqlite", tmp, auth_window_seconds=2_000_000_000) as app:
        yield app
