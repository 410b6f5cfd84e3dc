"""Prometheus metrics, counted where a call is answered and served at ``GET /metrics``.

Counting happens once per call, at the wire boundary (never per record), so it costs the sync
path a few microseconds a call. With several worker processes, ``serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before the workers start, each worker keeps
its counts in files there, and whichever worker answers a scrape adds them all up
(prometheus-client's multiprocess mode). Without that variable the counts live in the process.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from leadsync.config import Settings
from leadsync.errors import StoreError
from leadsync.operations.rest_stats import REST_REJECT_CODES
from leadsync.store.control import LIMIT_CODES

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Stands for an operation name the server does not know, so a client sending made-up names
#: cannot grow the number of series without bound.
OTHER = "other"

CALLS = Counter(
    "leadsync_calls",
    "API calls answered, by outcome (ok or fault).",
    ["api", "operation", "outcome"],
)
RECORDS = Counter(
    "leadsync_records", "Records written by calls, by their status.", ["api", "operation", "status"]
)
FAULTS = Counter("leadsync_faults", "Faults answered, by Marketo error code.", ["api", "code"])
DURATION = Histogram(
    "leadsync_call_duration_seconds",
    "Time from a call's body being read to its answer being ready.",
    ["api", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
LIMIT_REJECTS = Counter(
    "leadsync_limit_rejects", "Calls refused by a call limit, by Marketo error code.", ["code"]
)
DATABASE_ERRORS = Counter(
    "leadsync_database_errors", "Calls that failed on a database error.", ["api"]
)
IN_FLIGHT = Gauge(
    "leadsync_calls_in_flight",
    "Calls being worked on.",
    ["api"],
    multiprocess_mode="livesum",
)
#: A limit's refusal, in SOAP's codes and in REST's.
_LIMIT_CODES = frozenset(LIMIT_CODES) | {int(code) for code in REST_REJECT_CODES.values()}


class _Series:
    """The children of one api and operation, looked up once rather than on every call."""

    __slots__ = ("created", "duration", "failed", "fault", "ok", "updated")

    def __init__(self, api: str, operation: str) -> None:
        self.ok = CALLS.labels(api, operation, "ok")
        self.fault = CALLS.labels(api, operation, "fault")
        self.duration = DURATION.labels(api, operation)
        self.created = RECORDS.labels(api, operation, "created")
        self.updated = RECORDS.labels(api, operation, "updated")
        self.failed = RECORDS.labels(api, operation, "failed")


_series: dict[tuple[str, str], _Series] = {}


def record_call(
    api: str,
    operation: str,
    seconds: float,
    *,
    fault_code: int | None = None,
    created: int = 0,
    updated: int = 0,
    failed: int = 0,
    database_error: bool = False,
) -> None:
    """Count one answered call; ``operation`` must already be a known name or ``OTHER``."""
    series = _series.get((api, operation))
    if series is None:
        series = _series.setdefault((api, operation), _Series(api, operation))
    series.duration.observe(seconds)
    if fault_code is None:
        series.ok.inc()
    else:
        series.fault.inc()
        FAULTS.labels(api, str(fault_code)).inc()
        if fault_code in _LIMIT_CODES:
            LIMIT_REJECTS.labels(str(fault_code)).inc()
    if created:
        series.created.inc(created)
    if updated:
        series.updated.inc(updated)
    if failed:
        series.failed.inc(failed)
    if database_error:
        DATABASE_ERRORS.labels(api).inc()


def is_database_error(error: BaseException) -> bool:
    """Whether an unexpected error came from the database (or its driver)."""
    return isinstance(error, StoreError)


def exposition() -> bytes:
    """Every metric in Prometheus' text format, summed over the worker processes."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> None:
    """Empty ``path`` (creating it), so counts of an earlier run are not added to this one's."""
    folder = Path(path)
    if folder.exists():
        for entry in folder.glob("*.db"):
            entry.unlink()
    else:
        folder.mkdir(parents=True)


def remove_multiprocess_dir(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)


def metrics_routes(settings: Settings) -> list[BaseRoute]:
    """``GET /metrics``, unless metrics are turned off."""
    if not settings.metrics:
        return []
    return [Route("/metrics", _endpoint(settings.metrics_token), methods=["GET"])]


def _endpoint(token: str) -> Callable[[Request], Awaitable[Response]]:
    expected = f"Bearer {token}".encode()

    async def endpoint(request: Request) -> Response:
        if token:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return PlainTextResponse(
                    "metrics need Authorization: Bearer TOKEN\n",
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        elif not _loopback(request):
            return PlainTextResponse(
                "metrics are served to loopback clients only; set metrics_token to serve others\n",
                status_code=403,
            )
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def _loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False
