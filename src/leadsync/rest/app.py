"""The REST API as an ASGI app, and the mount that sends it its paths.

Each call is answered in a worker thread (a write never blocks the event loop). The order
of checks: sizes (HTTP 413/414), the resource (610), the method (605), the token (601,
602), limits (607, 606, 615) and fault rules, then the handler; whatever goes wrong, the
client gets Marketo's envelope, an unexpected error being a 611 whose id is in the log.
"""

from __future__ import annotations

import gzip
import logging
import time
import uuid
from dataclasses import dataclass

import anyio
import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from leadsync.call_history import CallHistory
from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.config import Settings
from leadsync.errors import (
    AccessTokenInvalid,
    ConcurrencyLimitExceeded,
    ConcurrentAccessLimit,
    MethodNotSupported,
    RateLimitExceeded,
    RequestLimitExceeded,
    ResourceNotFound,
    RestError,
    RestSystemError,
)
from leadsync.limits.guard import CallPass, Guard, WithheldCall
from leadsync.logs import loggable_user_id
from leadsync.metrics import IN_FLIGHT, OTHER, is_database_error
from leadsync.model import AccessToken
from leadsync.operations.identity import TOKEN_LIFETIME_S, TokenChecker
from leadsync.rest.accounting import API, IDENTITY_OPERATION, Answered, account, figures
from leadsync.rest.identity import IDENTITY_HEADERS, IDENTITY_PATH, token_endpoint
from leadsync.rest.limits import (
    REST_SUBJECT,
    ensure_subject,
    fault_error,
    guard_settings,
    refusal,
    rest_limits,
)
from leadsync.rest.request import RestRequest
from leadsync.rest.routes import (
    Handler,
    RawReply,
    Reply,
    RestCall,
    Router,
    not_found_message,
    operation_name,
)
from leadsync.rest.wire import (
    JSON_TYPE,
    MAX_URI_BYTES,
    body_limit,
    error_body,
    remove_dot_segments,
    request_id,
    success_body,
)
from leadsync.serving.bodies import (
    BodyBudget,
    BodyBudgetExhausted,
    BodyTooLarge,
    ClientGone,
    read_body,
)
from leadsync.store.base import Store

log = logging.getLogger("leadsync.rest")
REST_PREFIXES = ("/rest/", "/identity/", "/bulk/")
#: The APIs' roots, which are no resource either (610 rather than the app's 404).
REST_ROOTS = frozenset(prefix.rstrip("/") for prefix in REST_PREFIXES)
#: Longest part of a refused path a log line shows.
_LOGGED_PATH_CHARS = 256
#: Responses shorter than this go uncompressed even when the client accepts gzip.
_GZIP_MIN_BYTES = 1024

Answer = tuple[int, dict[str, str], bytes]
Response = Answer | RawReply
#: Bytes of a file answer read and sent at a time.
_FILE_CHUNK = 256 * 1024
#: What the guard refuses a call with; REST answers them as 607, 606 and 615.
LIMIT_ERRORS = (RequestLimitExceeded, RateLimitExceeded, ConcurrencyLimitExceeded)


@dataclass(slots=True)
class OpenCall:
    """A call routed, authenticated and admitted, waiting for its handler to run."""

    request: RestRequest
    rid: str
    started: float
    handler: Handler | None = None
    call: RestCall | None = None
    admitted: CallPass | None = None
    #: Counted in the in-flight gauge until it is answered or abandoned.
    in_flight: bool = False


class RestService:
    """Turns one request into one response; knows no ASGI."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock = SYSTEM_CLOCK,
        history: CallHistory | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        #: The calls history the SOAP endpoint writes too (None: kept by no one).
        self.history = history
        self._in_flight = IN_FLIGHT.labels(API)
        self.router = Router()
        self.tokens = TokenChecker(store)
        self.threads = settings.threads or (2 if store.features.embedded else 4)
        #: REST limits and fault rules (docs/rest.md), on the guard SOAP calls pass.
        self.limits = rest_limits(settings)
        #: Whether ``@rest`` is known to exist (made on the first call that needs it).
        self._subject_ready = False
        self.guard = Guard.from_settings(
            store, guard_settings(settings), error_for=fault_error, clock=clock
        )

    def process(self, request: RestRequest) -> Response:
        """The whole call in one step (when no limit may refuse calls)."""
        opened = self.open(request)
        return self.run(opened) if isinstance(opened, OpenCall) else opened

    def open(self, request: RestRequest) -> Response | OpenCall:
        """Route, authenticate and admit a call: its answer when it ends there, or the call
        ready for ``run``."""
        if request.path == IDENTITY_PATH:
            return self._identity(request)
        opened = OpenCall(request, request_id(), time.perf_counter(), in_flight=True)
        self._in_flight.inc()
        try:
            handler, params = self._route(request)
            # Named before the token is checked, so that a refused call is counted by name.
            opened.handler = handler
            token = self._authenticate(request)
            opened.call = RestCall(self.store, self.settings, request, token, self.clock, params)
            opened.admitted = self._admit(operation_name(handler), token.client_id)
        except Exception as error:
            return self._answer(opened, error=error)
        return opened

    def run(self, opened: OpenCall) -> Response:
        """Run an admitted call's handler; it leaves the guard however it ends."""
        assert opened.handler is not None
        assert opened.call is not None
        try:
            try:
                reply = opened.handler(opened.call)
            except Exception as error:
                return self._answer(opened, error=error)
            return self._answer(opened, reply=reply)
        finally:
            # Already done when the call was answered; not when it was interrupted.
            self.abandon(opened)

    def abandon(self, opened: OpenCall) -> None:
        """An admitted call is over (or will never run): count it and free its slot."""
        if opened.admitted is not None:
            admitted, opened.admitted = opened.admitted, None
            self.guard.leave(admitted)
        if opened.in_flight:
            opened.in_flight = False
            self._in_flight.dec()

    def _identity(self, request: RestRequest) -> Response:
        started = time.perf_counter()
        status, body = token_endpoint(self.store, request, self.clock.now(), TOKEN_LIFETIME_S)
        message = "" if status == 200 else str(orjson.loads(body).get("error_description", ""))
        account(
            Answered(
                request.method,
                request.path,
                loggable_user_id((request.param("client_id") or "").strip()) or "-",
                IDENTITY_OPERATION,
                time.perf_counter() - started,
                # OAuth's refusals carry no Marketo code: their HTTP status stands for one.
                fault_code=None if status == 200 else status,
                fault_message=message,
            ),
            self.history,
        )
        return status, {"Content-Type": JSON_TYPE, **IDENTITY_HEADERS}, body

    def _answer(
        self,
        opened: OpenCall,
        *,
        reply: Reply | RawReply | None = None,
        error: Exception | None = None,
    ) -> Response:
        """The call's response; and the one place it is counted: usage (with the error code
        answered), log line, metrics and calls history. A file answer (``RawReply``) is sent
        as it is, and counted as a call with no records."""
        request = opened.request
        raw = reply if isinstance(reply, RawReply) else None
        envelope = None if reply is None else {} if isinstance(reply, RawReply) else reply
        found = figures(envelope) if envelope is not None else None
        error_id = ""
        refused_by_limit = isinstance(error, LIMIT_ERRORS)
        database_error = error is not None and is_database_error(error)
        if error is None:
            body = success_body(opened.rid, envelope or {})
        else:
            if isinstance(error, LIMIT_ERRORS):
                error = refusal(error, self.limits)
            elif isinstance(error, WithheldCall):
                # The HTTP layer drops the connection or answers a bare status instead.
                error = RestSystemError("System error: withheld by a fault rule")
            if not isinstance(error, RestError):
                error_id = uuid.uuid4().hex[:12]
                log.error(
                    "error id=%s %s %s",
                    error_id,
                    request.method,
                    request.path,
                    exc_info=(type(error), error, error.__traceback__),
                )
                error = RestSystemError(f"System error, error id {error_id}")
            body = error_body(opened.rid, error)
        rest_error = error if isinstance(error, RestError) else None
        code = int(rest_error.code) if rest_error is not None else None
        admitted = opened.admitted
        if admitted is not None:
            admitted.records = found.records if found is not None else 0
            admitted.error = code or 0
        elif code is not None and not refused_by_limit:
            # Refusals by a limit are counted as rejects by the guard already.
            self._count_error(code)
        self.abandon(opened)
        account(
            Answered(
                request.method,
                request.path,
                opened.call.token.client_id if opened.call is not None else "-",
                operation_name(opened.handler) if opened.handler is not None else OTHER,
                time.perf_counter() - opened.started,
                found or figures({}),
                fault_code=code,
                fault_message=rest_error.message if rest_error is not None else "",
                error_id=error_id,
                database_error=database_error,
            ),
            self.history,
        )
        if raw is not None and error is None:
            return raw
        return 200, {"Content-Type": JSON_TYPE}, body

    def refused_early(self, method: str, path: str, code: int, message: str) -> None:
        """Account for a call the HTTP layer refused before it became a request: its URI or
        body too large (HTTP 414, 413) or no share of the body budget (615)."""
        # A URI too long is not worth matching (nor logging whole).
        found = self.router.match(path) if len(path) <= MAX_URI_BYTES else None
        handler = found[0].handlers.get(method) if found else None
        account(
            Answered(
                method,
                path[:_LOGGED_PATH_CHARS],
                "-",
                operation_name(handler) if handler is not None else OTHER,
                0.0,
                fault_code=code,
                fault_message=message,
            ),
            self.history,
        )

    def _count_error(self, code: int) -> None:
        try:
            self._ensure_subject()
        except Exception as exc:
            log.error("could not count a REST error %s: %s", code, exc)
            return
        self.guard.count_error(REST_SUBJECT, code)

    def _ensure_subject(self) -> None:
        if not self._subject_ready:
            ensure_subject(self.store)
            self._subject_ready = True

    def _route(self, request: RestRequest) -> tuple[Handler, dict[str, str]]:
        method = request.method
        found = self.router.match(request.path)
        handler = found[0].handlers.get(method) if found else None
        if handler is None:
            marketo = self.router.not_emulated(method, request.path)
            if marketo is not None and (marketo.method == method or found is None):
                raise ResourceNotFound(
                    f"Requested resource not found: {marketo.name}"
                    f" ({marketo.method} {marketo.template}) is not emulated by leadsync"
                )
            if found is None:
                raise ResourceNotFound(not_found_message(request.path))
            raise MethodNotSupported(f"Request method '{method}' not supported")
        assert found is not None
        return handler, found[1]

    def _admit(self, operation: str, service: str) -> CallPass:
        self._ensure_subject()
        return self.guard.enter(REST_SUBJECT, operation, service)

    def _authenticate(self, request: RestRequest) -> AccessToken:
        header = request.authorization
        if header:
            scheme, _, value = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise AccessTokenInvalid()
            return self.tokens.check(value.strip(), self.clock.now(), self.clock.monotonic())
        legacy = request.param("access_token")
        if legacy is not None:
            if not self.settings.rest_query_token:
                raise AccessTokenInvalid(
                    "Access token invalid: send it in the Authorization header"
                    " (Authorization: Bearer <token>); the access_token parameter is no"
                    " longer accepted"
                )
            return self.tokens.check(legacy.strip(), self.clock.now(), self.clock.monotonic())
        # Marketo's table has no code for a missing token: 601, as for a bad one. A client
        # relies on it: marketorestpython's retry after a 606 sends no token, and recovers
        # only because the 601 makes it authenticate and call again.
        raise AccessTokenInvalid()


class RestApi:
    """The ASGI side: bounds, the body, a worker thread, gzip."""

    def __init__(self, service: RestService, budget: BodyBudget) -> None:
        self.service = service
        #: The process's bytes of request bodies in flight, shared with the SOAP endpoint.
        self.budget = budget
        # Made on first use: a limiter belongs to the event loop that serves the calls.
        self._limiter: anyio.CapacityLimiter | None = None
        self._admission: anyio.CapacityLimiter | None = None

    async def _admitted_then_run(self, request: RestRequest) -> Response:
        """A limit may refuse the call: it is admitted (and counted in flight) as it arrives,
        on threads of its own, and only then waits for a worker, as SOAP calls are."""
        assert self._limiter is not None
        assert self._admission is not None
        service = self.service
        opened = await anyio.to_thread.run_sync(service.open, request, limiter=self._admission)
        if not isinstance(opened, OpenCall):
            return opened
        try:
            return await anyio.to_thread.run_sync(service.run, opened, limiter=self._limiter)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(service.abandon, opened, limiter=self._admission)
            raise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        method, path = scope["method"].upper(), scope["path"]
        if len(raw_path) + len(query) + 1 > MAX_URI_BYTES:
            self.service.refused_early(method, path, 414, "Request-URI Too Long")
            await _plain(send, 414, b"Request-URI Too Long\n")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            limit = body_limit(scope["method"].upper(), scope["path"])
            body = await read_body(Request(scope, receive), limit, self.budget)
        except BodyTooLarge:
            self.service.refused_early(method, path, 413, "Request Entity Too Large")
            await _plain(send, 413, b"Request Entity Too Large\n")
            return
        except BodyBudgetExhausted:
            refused = ConcurrentAccessLimit()
            self.service.refused_early(method, path, int(refused.code), refused.message)
            await _json(send, error_body(request_id(), refused))
            return
        except ClientGone:
            log.info("client closed its connection before its request arrived")
            return
        request = RestRequest(
            http_method=scope["method"].upper(),
            path=scope["path"],
            query_string=query.decode("latin-1"),
            body=bytes(body),
            content_type=headers.get("content-type", ""),
            authorization=headers.get("authorization"),
            range_header=headers.get("range"),
        )
        if self._limiter is None or self._admission is None:
            self._limiter = anyio.CapacityLimiter(self.service.threads)
            self._admission = anyio.CapacityLimiter(self.service.threads)
        gzip_ok = "gzip" in headers.get("accept-encoding", "").lower()
        if self.service.guard.may_refuse:
            answer = await self._admitted_then_run(request)
        else:
            answer = await anyio.to_thread.run_sync(
                self.service.process, request, limiter=self._limiter
            )
        if isinstance(answer, RawReply):
            await _send_raw(send, answer)
            return
        status, out_headers, out = _encoded(answer, gzip_ok)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in out_headers.items()
                ],
            }
        )
        await send({"type": "http.response.body", "body": out})


async def _send_raw(send: Send, reply: RawReply) -> None:
    """A file answer, read from disk in chunks in a worker thread: its memory is bounded
    whatever the file's size."""
    length = reply.length if reply.path is not None else len(reply.body)
    headers = {**reply.headers, "Content-Length": str(length)}
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ],
        }
    )
    if reply.path is None:
        await send({"type": "http.response.body", "body": reply.body})
        return
    with open(reply.path, "rb") as stream:
        await anyio.to_thread.run_sync(stream.seek, reply.offset)
        left = length
        while left > 0:
            chunk = await anyio.to_thread.run_sync(stream.read, min(_FILE_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": left > 0})
    if left > 0 or length == 0:
        await send({"type": "http.response.body", "body": b""})


def _encoded(answer: Answer, gzip_ok: bool) -> Answer:
    status, headers, body = answer
    if gzip_ok and len(body) >= _GZIP_MIN_BYTES:
        body = gzip.compress(body, compresslevel=5)
        headers = {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    headers["Content-Length"] = str(len(body))
    return status, headers, body


async def _plain(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})


async def _json(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", JSON_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RestMount:
    """Sends ``/rest/``, ``/identity/`` and ``/bulk/`` to the REST API, after removing dot
    segments from the path (a client builds ``/rest/../bulk/...``); the rest to ``app``."""

    def __init__(self, app: ASGIApp, rest: RestApi) -> None:
        self.app = app
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = remove_dot_segments(scope["path"])
            if path.startswith(REST_PREFIXES) or path in REST_ROOTS:
                await self.rest({**scope, "path": path}, receive, send)
                return
        await self.app(scope, receive, send)
