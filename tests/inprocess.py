"""The semantic tests' server: the ASGI app in this process, no port, no process, no sleep.

``serving_app`` answers as ``support.running_server`` does (an ``Endpoint`` with the same
``post``, ``call``, ``http``, ``database_url`` and ``log()``), but each request goes through
Starlette's ``TestClient`` into the very app ``leadsync serve`` runs (``create_app``, with
the start-up checks of ``serve``). A test then costs milliseconds rather than a process
start. Keep ``running_server`` for what needs a process: real SOAP clients, several
workers, kill -9, the CLI end to end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from backends import postgres_schema
from leadsync.app import create_app
from leadsync.clock import SYSTEM_CLOCK, Clock, SettableClock
from leadsync.config import Settings
from leadsync.limits.startup import prepare
from leadsync.soap.wsdl import wsdl_operations
from leadsync.store import open_store
from leadsync.store.base import Store
from support import DEMO_KEY, DEMO_USER, Endpoint

BASE_URL = "http://testserver"
TICK = timedelta(milliseconds=1)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass(kw_only=True)
class AppServer(Endpoint):
    """The app served in this process, on its own open store."""

    store: Store
    settings: Settings
    #: The app's time; a ``SettableClock`` when the test asked for one (``running_clock``).
    clock: Clock
    _log: _Lines = field(repr=False)

    def log(self) -> str:
        """What the app logged under ``leadsync`` so far, one record a line."""
        return "\n".join(self._log.lines)

    def post(self, body: str | bytes, **headers: str) -> httpx.Response:
        """As ``Endpoint.post``; on a ``SettableClock`` the call takes a millisecond of its
        time before and after, so calls follow each other in time as real ones do and a time
        the test reads between two calls lies strictly between them."""
        if not isinstance(self.clock, SettableClock):
            return super().post(body, **headers)
        self.clock.advance(TICK)
        try:
            return super().post(body, **headers)
        finally:
            self.clock.advance(TICK)


@contextmanager
def _captured_log() -> Iterator[_Lines]:
    logger = logging.getLogger("leadsync")
    handler = _Lines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextmanager
def serving_app(
    tmp: Path,
    *,
    database_url: str | None = None,
    users: Iterable[tuple[str, str]] = ((DEMO_USER, DEMO_KEY),),
    clock: Clock = SYSTEM_CLOCK,
    **settings: Any,
) -> Iterator[AppServer]:
    """The app on ``database_url`` (default: a new SQLite file in ``tmp``), with ``settings``
    (``Settings`` field names: ``max_records_per_call=3``...) as ``serve``'s flags would set
    them, taking its time from ``clock``."""
    db = database_url or f"sqlite:///{tmp / 'leadsync.db'}"
    config = Settings(database_url=db, **settings)
    store = open_store(db)
    try:
        for user_id, key in users:
            store.add_user(user_id, key)
        prepare(store, config, wsdl_operations())
        app = create_app(config, store, clock=clock)
        with _captured_log() as lines, TestClient(app, base_url=BASE_URL) as client:
            yield AppServer(
                base_url=BASE_URL,
                database_url=db,
                http=client,
                store=store,
                settings=config,
                clock=clock,
                _log=lines,
            )
    finally:
        store.close()


@contextmanager
def app_on(
    request: pytest.FixtureRequest, backend: str, tmp: Path, **settings: Any
) -> Iterator[AppServer]:
    """The app in this process on an empty database of ``backend`` (PostgreSQL: a schema of
    the session's scratch database)."""
    if backend == "sqlite":
        with serving_app(tmp, **settings) as app:
            yield app
        return
    database: str = request.getfixturevalue("postgres_database_url")
    with (
        postgres_schema(database, drop=False) as url,
        serving_app(tmp, database_url=url, **settings) as app,
    ):
        yield app


def running_clock() -> SettableClock:
    """A clock that stands still until the test moves it, starting at the real time: requests
    are still signed with the real time, and the app accepts them within its window."""
    return SettableClock(datetime.now(UTC))
