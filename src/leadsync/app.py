"""The composition root: the one place where a concrete store meets the routes."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from leadsync.admin import admin_routes, shape_calls
from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.config import Settings, from_env
from leadsync.console import console_routes
from leadsync.jobs.files import JobFiles, bulk_root
from leadsync.jobs.runner import JobRunner
from leadsync.jobs.work import job_work
from leadsync.limits.guard import fault_injection_enabled
from leadsync.logs import configure_logging
from leadsync.metrics import metrics_routes
from leadsync.rest.app import RestApi, RestMount, RestService
from leadsync.serving.bodies import BodyBudget
from leadsync.serving.protocol import ConnectionLimits, use_limits
from leadsync.serving.secrets import with_secrets
from leadsync.soap.endpoint import SoapService, soap_route
from leadsync.store import Store, open_store

SOAP_PATH = "/soap/mktows/{version}"


def create_app(
    settings: Settings, store: Store | None = None, *, clock: Clock = SYSTEM_CLOCK
) -> Starlette:
    """An ASGI app on ``store`` (opened from ``settings.database_url`` when not given) that
    takes the time from ``clock`` (tests pass a ``leadsync.clock.SettableClock``)."""
    owned = store is None
    store = store or open_store(settings.database_url, wait_seconds=settings.database_wait_seconds)
    #: Bytes of request bodies this process holds at once (docs/deployment.md, Limits and
    #: exposure); every wire that buffers bodies should read them through it.
    body_budget = BodyBudget(settings.max_body_bytes_in_flight, settings.body_wait_seconds)
    service = SoapService(store, settings, clock)

    async def health(request: Request) -> Response:
        """The process answers; the database is not asked (that is /readyz)."""
        return PlainTextResponse("ok\n")

    async def ready(request: Request) -> Response:
        """The database answers a query within ``database_wait_seconds``: what a load
        balancer should route on."""
        if await database_answers(store, settings.database_wait_seconds):
            return PlainTextResponse("ready\n")
        return PlainTextResponse("database unreachable\n", status_code=503)

    jobs = job_runner(store, settings, clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        jobs.start()
        yield
        await anyio.to_thread.run_sync(jobs.stop)
        service.close()
        if owned:
            store.close()

    app = Starlette(
        routes=[
            Route(SOAP_PATH, soap_route(service, body_budget), methods=["GET", "POST"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/readyz", ready, methods=["GET"]),
            *metrics_routes(settings),
            *console_routes(
                store,
                settings,
                service.guard.limits_changed,
                fault_injection_enabled(settings),
            ),
            *admin_routes(store, settings, service.guard.limits_changed, clock),
        ],
        lifespan=lifespan,
    )
    rest = RestService(store, settings, clock, service.history)
    app.add_middleware(RestMount, rest=RestApi(rest, body_budget))
    shape_calls(app, settings)
    app.state.store = store
    app.state.settings = settings
    app.state.body_budget = body_budget
    app.state.call_history = service.history
    #: Bridge mode's side (None locally): its journal is written in the background.
    app.state.bridge = service.bridge
    app.state.rest = rest
    app.state.jobs = jobs
    return app


def job_runner(store: Store, settings: Settings, clock: Clock) -> JobRunner:
    """The bulk jobs this process runs (docs/rest.md, "Bulk API")."""
    return JobRunner(
        store,
        JobFiles(bulk_root(settings)),
        job_work(settings),
        threads=settings.bulk_threads,
        lease_seconds=settings.lease_seconds,
        clock=clock,
        faults=store.faults() if fault_injection_enabled(settings) else None,
    )


async def database_answers(store: Store, seconds: float) -> bool:
    """Whether ``store`` answers a small query within ``seconds``; a query still running then
    is left to finish in its thread."""
    with anyio.move_on_after(seconds):
        try:
            await anyio.to_thread.run_sync(store.schema_version, abandon_on_cancel=True)
        except Exception:
            return False
        return True
    return False


def app_from_env() -> Any:
    """Factory for ``uvicorn --factory`` and worker processes: settings from the environment."""
    settings = from_env(environ=with_secrets(os.environ))
    configure_logging(settings.log_level, settings.log_format)
    use_limits(connection_limits(settings))
    app = create_app(settings)
    tune_gc()
    return app


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        body_min_bytes=settings.body_min_bytes,
        max_connections=settings.max_connections,
    )


def tune_gc() -> None:
    """Garbage collection for a serving process; call once, after the app is built.

    A sync of 300 leads makes tens of thousands of short-lived objects, and CPython's default
    thresholds would have the collector walk the long-lived heap (modules, the app) again and
    again. Freezing what start-up built and collecting the young generation less often saves
    about 4% of a call's instructions. Only for server processes: frozen objects are never
    collected.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
