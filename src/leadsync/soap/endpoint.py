"""The SOAP endpoint: POST /soap/mktows/<version> and GET ...?WSDL.

Every call is parsed, authenticated and answered inside worker threads, so a slow write
never blocks the event loop. When a limit may refuse calls, a call is admitted on threads of
its own as soon as it arrives, then waits for a worker: concurrency counts it from arrival.
Whatever goes wrong, the client gets a fault in Marketo's shape; an unexpected error is a
20011 whose id is in the log, never a traceback.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from leadsync.call_history import CallHistory, failure_summary, fault_summary
from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.config import Settings
from leadsync.errors import (
    ConcurrencyLimitExceeded,
    InternalError,
    MarketoError,
    RequestNotUnderstood,
    StoreUnavailable,
    UnsupportedOperation,
)
from leadsync.limits.guard import CallPass, Guard
from leadsync.logs import call_fields, loggable_user_id
from leadsync.metrics import IN_FLIGHT, OTHER, is_database_error, record_call
from leadsync.mktows.escaping import NotXmlCharacter
from leadsync.model import ApiUser
from leadsync.serving.bodies import (
    BodyBudget,
    BodyBudgetExhausted,
    BodyTooLarge,
    ClientGone,
    read_body,
)
from leadsync.serving.memory import TRIM_AFTER_BYTES, release_memory
from leadsync.soap.auth import authenticate
from leadsync.soap.envelope import (
    SoapRequest,
    Undecided,
    operation_hint,
    read_credentials,
    read_request,
    refuse_costly,
)
from leadsync.soap.faults import render_fault
from leadsync.soap.handlers import CallContext, CallOutcome, load_handlers
from leadsync.soap.wsdl import render_wsdl, wsdl_operations
from leadsync.store.base import Store
from leadsync.store.calls import CallEntry

if TYPE_CHECKING:
    from leadsync.bridge.service import Bridge

log = logging.getLogger("leadsync.calls")
VERSION = re.compile(r"^(2_[0-9]|3_[01])$")
_XML = "text/xml; charset=utf-8"
#: The ``api`` label of this wire's calls in metrics and the calls history.
API = "soap"


@dataclass(slots=True)
class _CallLog:
    user: str = "-"
    operation: str = "-"
    #: The user id the caller gave, before it was authenticated (what a failed
    #: authentication logs; never the key or the signature).
    tried: str = ""


@dataclass(slots=True)
class OpenCall:
    """A call authenticated and admitted, waiting for its handler to run."""

    request: SoapRequest
    user: ApiUser
    admitted: CallPass
    log: _CallLog
    started: float


Answer = tuple[int, bytes]


class SoapService:
    """Turns request bytes into response bytes; knows no HTTP."""

    def __init__(self, store: Store, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        #: Bridge mode (docs/bridge.md): the handlers answer from the upstream, not the store.
        self.bridge: Bridge | None = None
        if settings.upstream_url:
            from leadsync.bridge.service import Bridge

            self.bridge = Bridge(store, settings, clock)
            self.handlers = self.bridge.handlers()
        else:
            self.handlers = load_handlers()
        self.known_operations = frozenset(wsdl_operations())
        #: Limits and fault rules, checked between authentication and the handler.
        self.guard = Guard.from_settings(store, settings, clock=clock)
        #: Calls worked on at once (Settings.threads); SQLite writes one at a time anyway.
        self.threads = settings.threads or (2 if store.features.embedded else 4)
        self._in_flight = IN_FLIGHT.labels(API)
        #: The calls history (None when Settings.calls_history is 0); close() writes its rest.
        self.history = (
            CallHistory(store, settings.calls_history, clock=lambda: clock.now().timestamp())
            if settings.calls_history
            else None
        )

    def close(self) -> None:
        if self.history is not None:
            self.history.close()
        if self.bridge is not None:
            self.bridge.close()

    def process(self, data: bytes | bytearray) -> Answer:
        opened = self.open(data)
        return opened if isinstance(opened, tuple) else self.run(opened)

    def open(self, data: bytes | bytearray) -> OpenCall | Answer:
        """Parse, authenticate and admit a call: its fault, or the call ready for ``run``."""
        started = time.perf_counter()
        call = _CallLog()
        self._in_flight.inc()
        try:
            request, user = self._read(data, call)
            admitted = self.guard.enter(user.user_id, request.operation)
        except Exception as exc:
            self._in_flight.dec()
            return self._failed(call, started, exc)
        return OpenCall(request, user, admitted, call, started)

    def run(self, opened: OpenCall) -> Answer:
        """Run an admitted call's handler; its lease ends and its usage is counted however
        it ends."""
        request, call = opened.request, opened.log
        try:
            try:
                handler = self.handlers.get(request.operation)
                if handler is None:
                    if request.operation in self.known_operations and self.bridge is not None:
                        raise UnsupportedOperation(
                            f"Unsupported Operation: {request.operation} is not forwarded in"
                            " bridge mode (docs/bridge.md)"
                        )
                    if request.operation in self.known_operations:
                        raise UnsupportedOperation(
                            f"Unsupported Operation: {request.operation} is not emulated by"
                            " leadsync"
                        )
                    raise UnsupportedOperation(f"Unsupported Operation: {request.operation}")
                context = CallContext(self.store, self.settings, opened.user, request, self.clock)
                outcome = handler(context)
                opened.admitted.records = outcome.records
            finally:
                self.guard.leave(opened.admitted)
                self._in_flight.dec()
        except Exception as exc:
            return self._failed(call, opened.started, exc)
        self._log(call, opened.started, outcome, None)
        return 200, outcome.body

    def abandon(self, opened: OpenCall) -> None:
        """An admitted call that will never run (its client went away while it waited)."""
        if not opened.admitted.closed:
            self.guard.leave(opened.admitted)
            self._in_flight.dec()

    def _read(self, data: bytes | bytearray, call: _CallLog) -> tuple[SoapRequest, ApiUser]:
        # Who signed is known before the Body is built into a tree (a small document is
        # parsed whole first: that costs no more).
        credentials = read_credentials(data)
        request: SoapRequest | None = None
        if isinstance(credentials, Undecided):
            request = read_request(data)
            call.operation = request.operation
            credentials = request.credentials
        else:
            # For the log and the calls history of a call refused before its Body is parsed.
            call.operation = operation_hint(data)
        if credentials is not None:
            call.tried = loggable_user_id(credentials.user_id)
        user = authenticate(
            credentials,
            self.store.get_user,
            window_seconds=self.settings.auth_window_seconds,
            now=self.clock.now(),
        )
        call.user = user.user_id
        if request is None:
            refuse_costly(data, self.settings.max_elements, self.settings.max_attributes)
            request = read_request(data)
            call.operation = request.operation
        return request, user

    def _failed(self, call: _CallLog, started: float, exc: Exception) -> Answer:
        if isinstance(exc, MarketoError):
            self._log(call, started, None, exc)
            return 500, render_fault(exc)
        if isinstance(exc, NotXmlCharacter):
            # Only a value stored by some other way in can hold one (docs/compatibility.md,
            # "Characters"); the answer says so rather than dropping the character.
            refusal = InternalError(f"Internal Error: a stored value {exc}")
            self._log(call, started, None, refusal)
            return 500, render_fault(refusal)
        error_id = uuid.uuid4().hex[:12]
        if isinstance(exc, StoreUnavailable):
            # An outage is no bug: one line, not a traceback per call.
            log.error("error id=%s user=%s op=%s %s", error_id, call.user, call.operation, exc)
        else:
            log.error(
                "error id=%s user=%s op=%s", error_id, call.user, call.operation, exc_info=exc
            )
        internal = InternalError(f"Internal Error, error id {error_id}")
        self._log(call, started, None, internal, error_id, is_database_error(exc))
        return 500, render_fault(internal)

    def _log(
        self,
        call: _CallLog,
        started: float,
        outcome: CallOutcome | None,
        error: MarketoError | None,
        error_id: str = "",
        database_error: bool = False,
    ) -> None:
        """The one place a call is accounted for: its log line, metrics and history entry."""
        seconds = time.perf_counter() - started
        operation = call.operation if call.operation in self.known_operations else OTHER
        user = call.user if call.user != "-" else call.tried or "-"
        if outcome is not None:
            fields = call_fields(
                user=user,
                operation=call.operation,
                outcome="ok",
                duration_ms=seconds * 1000,
                records=outcome.records,
                created=outcome.created,
                updated=outcome.updated,
                failed=outcome.failed,
            )
            log.info(
                "user=%s op=%s records=%d created=%d updated=%d failed=%d ms=%.1f",
                user,
                call.operation,
                outcome.records,
                outcome.created,
                outcome.updated,
                outcome.failed,
                seconds * 1000,
                extra={"call": fields},
            )
            record_call(
                API,
                operation,
                seconds,
                created=outcome.created,
                updated=outcome.updated,
                failed=outcome.failed,
            )
        else:
            assert error is not None
            code = error.code
            ms = seconds * 1000
            fields = call_fields(
                user=user,
                operation=call.operation,
                outcome="fault",
                duration_ms=ms,
                fault_code=code,
                error_id=error_id,
            )
            log.info(
                "user=%s op=%s fault=%s ms=%.1f",
                user,
                call.operation,
                code,
                ms,
                extra={"call": fields},
            )
            record_call(API, operation, seconds, fault_code=code, database_error=database_error)
        if self.history is not None:
            entry = CallEntry(
                at_ms=self.history.now_ms(),
                user_id=user,
                api=API,
                operation=operation,
                duration_ms=seconds * 1000,
            )
            if outcome is not None:
                entry = replace(
                    entry,
                    records=outcome.records,
                    created=outcome.created,
                    updated=outcome.updated,
                    failed=outcome.failed,
                    summary=failure_summary(outcome.statuses) if outcome.failed else "",
                )
            elif error is not None:
                summary = fault_summary(error.message)
                entry = replace(entry, fault_code=error.code, error_id=error_id, summary=summary)
            self.history.add(entry)


def soap_route(
    service: SoapService, budget: BodyBudget
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint; its request bodies are read within ``budget``, the process's bytes of
    bodies in flight (shared with whatever else reads bodies through it)."""
    settings = service.settings
    # Made on first use: a limiter belongs to the event loop that serves the calls.
    limiter: anyio.CapacityLimiter | None = None
    admission: anyio.CapacityLimiter | None = None

    async def endpoint(request: Request) -> Response:
        nonlocal limiter, admission
        version = request.path_params["version"]
        if not VERSION.match(version):
            return PlainTextResponse(f"unknown API version {version}\n", status_code=404)
        if request.method in ("GET", "HEAD"):
            if any(key.lower() == "wsdl" for key in request.query_params):
                return Response(render_wsdl(_address(request, settings)), media_type=_XML)
            return PlainTextResponse(
                "POST SOAP requests to this URL; its WSDL is at ?WSDL\n", status_code=405
            )
        try:
            data = await read_body(request, settings.max_body_bytes, budget)
        except BodyTooLarge:
            limit = settings.max_body_bytes
            error: MarketoError = RequestNotUnderstood(
                f"Request Not Understood: the request is larger than {limit} bytes"
            )
            return Response(render_fault(error), status_code=500, media_type=_XML)
        except BodyBudgetExhausted:
            error = ConcurrencyLimitExceeded(
                "Concurrency Limit Exceeded: the server is receiving too many requests at once;"
                " retry later"
            )
            return Response(render_fault(error), status_code=500, media_type=_XML)
        except ClientGone:
            log.info("client closed its connection before its request arrived")
            if _declared_length(request) >= TRIM_AFTER_BYTES:
                # What it sent was buffered, and is free now: give it back.
                await anyio.to_thread.run_sync(release_memory)
            return Response(status_code=400)
        if limiter is None or admission is None:
            limiter = anyio.CapacityLimiter(service.threads)
            admission = anyio.CapacityLimiter(service.threads)
        large = len(data) >= TRIM_AFTER_BYTES
        if service.guard.may_refuse:
            status, body = await _admitted_then_run(service, data, admission, limiter)
        else:
            status, body = await anyio.to_thread.run_sync(service.process, data, limiter=limiter)
        if large:
            del data
            await anyio.to_thread.run_sync(release_memory, limiter=limiter)
        return Response(body, status_code=status, media_type=_XML)

    return endpoint


def _declared_length(request: Request) -> int:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else 0


async def _admitted_then_run(
    service: SoapService,
    data: bytes | bytearray,
    admission: anyio.CapacityLimiter,
    workers: anyio.CapacityLimiter,
) -> Answer:
    """A limit may refuse the call: it is admitted (and counted in flight) as it arrives, on
    threads of its own, and only then waits for a worker."""
    opened = await anyio.to_thread.run_sync(service.open, data, limiter=admission)
    if isinstance(opened, tuple):
        return opened
    try:
        return await anyio.to_thread.run_sync(service.run, opened, limiter=workers)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(service.abandon, opened, limiter=admission)
        raise


def _address(request: Request, settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/") + request.url.path
    return str(request.url.replace(query=""))
