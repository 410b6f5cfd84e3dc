"""The upstream REST client: one token and one call budget shared through the database,
backoff with jitter on what Marketo calls transient, and Marketo's codes turned into the
SOAP faults a legacy client's own retry logic knows (spec §5.4, §9.5).

- 601/602: the token is forgotten (for every process) and the call sent again with a new
  one; such answers cost no quota.
- 606, 615, 604, 608, 611, 713, HTTP 502 and other 5xx, timeouts and dropped connections:
  sent again after a pause that doubles with full jitter, until the SOAP call's deadline
  (``upstream_wait_seconds``); then 20023 (606), 20024 (615) or 20011 with an error id.
- 607 is 20015 at once: the quota resets at midnight, no wait helps.
- A write whose request may have reached the upstream (a timeout or a dropped connection
  after it was sent) is never sent blind: ``OutcomeUnknown`` goes to the caller, which knows
  whether sending it again is safe.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from leadsync.bridge.budget import Budget, Slot, wait_deadline
from leadsync.bridge.ordering import KeyLocks, SharedHolds
from leadsync.clock import Clock, epoch_ms
from leadsync.config import Settings
from leadsync.errors import (
    AccessDenied,
    BadParameter,
    ConcurrencyLimitExceeded,
    InternalError,
    LeadAttributeBad,
    LeadKeyBad,
    LeadNotFound,
    ListNotFound,
    MarketoError,
    ParameterRequired,
    RateLimitExceeded,
    RequestLimitExceeded,
    RequestNotUnderstood,
    UnsupportedOperation,
)
from leadsync.store.base import Store
from leadsync.store.bridge import UpstreamToken

log = logging.getLogger("leadsync.bridge")

#: Transport failures that happen before a byte of the request left.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Call-level codes worth sending again after a pause.
RETRY_CODES = frozenset({"606", "615", "604", "608", "611", "713"})
TOKEN_CODES = frozenset({"601", "602"})
QUOTA_CODE = "607"
#: A token is renewed this long before it expires.
TOKEN_MARGIN_MS = 60_000
#: The most an upstream answer may hold.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_BACKOFF_BASE_S = 0.2
_BACKOFF_CAP_S = 5.0


def token_key(settings: Settings) -> str:
    """The key the shared upstream token is stored under: one per upstream and client id,
    so that every worker and host of one bridge shares it."""
    return f"{settings.upstream_url.rstrip('/')} {settings.upstream_client_id}"


class UpstreamError(Exception):
    """The upstream answered ``success: false`` with a code no retry helps."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class OutcomeUnknown(Exception):
    """A write may or may not have been applied upstream (its answer was lost)."""


@dataclass(slots=True)
class Trace:
    """What one SOAP call saw upstream, for its journal entry."""

    request_ids: list[str] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)


CURRENT_TRACE: contextvars.ContextVar[Trace | None] = contextvars.ContextVar(
    "bridge_trace", default=None
)


def _note(request_id: str | None = None, code: str | None = None) -> None:
    trace = CURRENT_TRACE.get()
    if trace is None:
        return
    if request_id:
        trace.request_ids.append(request_id)
    if code:
        trace.codes.add(code)


def unreachable(what: str) -> InternalError:
    """20011 with an error id, the cause logged under it."""
    error_id = uuid.uuid4().hex[:12]
    log.error("error id=%s upstream: %s", error_id, what)
    return InternalError(
        f"Internal Error: the upstream is unavailable ({what}), error id {error_id}"
    )


def tls_verify(settings: Settings) -> bool | str:
    if settings.upstream_insecure_skip_tls_verify:
        return False
    return settings.upstream_ca_bundle or True


class Upstream:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.upstream_client_id or not settings.upstream_client_secret:
            from leadsync.errors import ConfigError

            raise ConfigError(
                "bridge mode needs upstream_client_id and upstream_client_secret"
                " (--upstream-client-id, --upstream-client-secret)"
            )
        self.settings = settings
        self.base_url = settings.upstream_url.rstrip("/")
        self.clock = clock
        self._sleep = sleep
        self.budget = Budget(store, settings, clock, sleep=sleep)
        #: The keys the writes in flight match leads by (``bridge.sync``); held in the
        #: database too when another process may bridge for it.
        self.writing = KeyLocks(
            SharedHolds(
                store.bridge(),
                clock,
                # The longest a write can be upstream: its wait, then an attempt and the
                # one resend after a lost answer.
                (settings.upstream_wait_seconds + 2 * settings.upstream_timeout_seconds) * 1000,
                sleep=sleep,
            )
            if store.features.concurrent_writers or settings.workers > 1
            else None
        )
        self._tokens = store.bridge()
        self._token_key = token_key(settings)
        self._token: UpstreamToken | None = None
        self._token_lock = threading.Lock()
        timeout = settings.upstream_timeout_seconds
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            verify=tls_verify(settings),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()
        self.budget.close()

    # -- the token --------------------------------------------------------------------------
    def token(self, deadline: float) -> str:
        now_ms = self._now_ms()
        with self._token_lock:
            held = self._token
            if held is None or held.expires_ms - now_ms <= TOKEN_MARGIN_MS:
                held = self._tokens.token(self._token_key)
                if held is None or held.expires_ms - now_ms <= TOKEN_MARGIN_MS:
                    held = self._new_token(deadline)
                    self._tokens.save_token(self._token_key, held)
                self._token = held
            return held.token

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token is not None and self._token.token == token:
                self._token = None
        self._tokens.forget_token(self._token_key, token)

    def _new_token(self, deadline: float) -> UpstreamToken:
        settings = self.settings
        attempt = 0
        while True:
            try:
                response = self._send(
                    self.http.build_request(
                        "POST",
                        f"{self.base_url}/identity/oauth/token",
                        data={
                            "grant_type": "client_credentials",
                            "client_id": settings.upstream_client_id,
                            "client_secret": settings.upstream_client_secret,
                        },
                    )
                )
            except httpx.TransportError as exc:
                # Identity calls change nothing: always safe to send again.
                if not self._pause(attempt, deadline):
                    raise unreachable(f"identity: {type(exc).__name__}: {exc}") from None
                attempt += 1
                continue
            if response.status_code >= 500 and self._pause(attempt, deadline):
                attempt += 1
                continue
            data = _json(response)
            if response.status_code == 200 and isinstance(data.get("access_token"), str):
                expires = int(data.get("expires_in") or 0)
                return UpstreamToken(data["access_token"], self._now_ms() + expires * 1000)
            # Never the secret: the upstream's own words only.
            described = (
                data.get("error_description")
                or data.get("error")
                or response.content[:200].decode(errors="replace")
            )
            raise unreachable(
                f"identity refused the client id (HTTP {response.status_code}): {described}"
            )

    # -- calls ------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | list[tuple[str, str | int | float | bool | None]] | None = None,
        form: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        write: bool = False,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One upstream REST call, answered ``success: true``: its JSON body. ``body`` is
        sent as JSON; ``content`` is JSON the caller encoded already.

        Raises ``UpstreamError`` for a code no retry helps, ``OutcomeUnknown`` when ``write``
        and the answer was lost after the request was sent, and a SOAP fault (20015, 20023,
        20024, 20011) when the wait is over.
        """
        if body is not None:
            content = orjson.dumps(body)
        answer = self._exchange(
            method, path, params=params, form=form, content=content, write=write, deadline=deadline
        )
        assert isinstance(answer, dict)
        return answer

    def download(self, path: str, *, deadline: float | None = None) -> bytes:
        """A file the upstream serves (a bulk extract's): its bytes, read like ``call``'s
        answers (same token, budget, backoff and faults). A JSON answer is an envelope: a
        refusal raises as ``call`` does."""
        answer = self._exchange("GET", path, deadline=deadline, raw=True)
        return answer if isinstance(answer, bytes) else b""

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | list[tuple[str, str | int | float | bool | None]] | None = None,
        form: Mapping[str, str] | None = None,
        content: bytes | None = None,
        write: bool = False,
        deadline: float | None = None,
        raw: bool = False,
    ) -> dict[str, Any] | bytes:
        if deadline is None:
            deadline = wait_deadline(self.clock, self.settings)
        attempt = 0
        last = ""
        while True:
            token = self.token(deadline)
            slot = self.budget.take(deadline)
            try:
                response = self._send(
                    self.http.build_request(
                        method,
                        self.base_url + path,
                        params=params,
                        data=form,
                        content=content,
                        headers={
                            "Authorization": f"Bearer {token}",
                            **({"Content-Type": "application/json"} if content is not None else {}),
                        },
                    )
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                last = f"{method} {path}: {type(exc).__name__}: {exc}"
                if write and sent:
                    _note(code="lost")
                    raise OutcomeUnknown(last) from None
                _note(code="unreachable" if not sent else "timeout")
                if not self._pause(attempt, deadline):
                    raise unreachable(last) from None
                attempt += 1
                continue
            finally:
                self._give_back(slot)
            if response.status_code >= 500:
                last = f"{method} {path}: HTTP {response.status_code}"
                _note(code=str(response.status_code))
                if write and response.status_code != 503:
                    # A gateway may have passed the request on before it failed.
                    raise OutcomeUnknown(last)
                if not self._pause(attempt, deadline):
                    raise unreachable(last)
                attempt += 1
                continue
            if raw and response.status_code == 200 and not response.is_json:
                return response.content
            data = _json(response)
            _note(request_id=str(data.get("requestId") or ""))
            if data.get("success") is True:
                return data
            code, message = _first_error(data, response)
            _note(code=code)
            if code in TOKEN_CODES:
                self._forget_token(token)
                # A refused token costs no quota, but a client that never gets a good one
                # must not loop for ever.
                if not self._pause(min(attempt, 1), deadline, base=0.0):
                    raise unreachable(f"{method} {path}: token refused ({code} {message})")
                attempt += 1
                continue
            if code == QUOTA_CODE:
                raise RequestLimitExceeded(
                    f"Request Limit Exceeded: the upstream's daily quota is reached ({message})"
                )
            if code in RETRY_CODES:
                if self._pause(attempt, deadline):
                    attempt += 1
                    continue
                raise _exhausted(code, message)
            raise UpstreamError(code, message)

    def _send(self, request: httpx.Request) -> Answer:
        """Send ``request``; its answer is read up to MAX_RESPONSE_BYTES, no further."""
        response = self.http.send(request, stream=True)
        try:
            size = 0
            chunks = []
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise unreachable(f"{request.method} {request.url.path}: answer too large")
                chunks.append(chunk)
        finally:
            response.close()
        kind = response.headers.get("content-type", "")
        return Answer(response.status_code, b"".join(chunks), "json" in kind.lower())

    def _give_back(self, slot: Slot) -> None:
        try:
            self.budget.give_back(slot)
        except Exception:
            # The slot's lease is reaped later; the call's answer must not depend on this.
            log.exception("could not count an upstream call in the budget")

    def _pause(self, attempt: int, deadline: float, *, base: float = _BACKOFF_BASE_S) -> bool:
        """Sleep before attempt ``attempt + 1`` (exponential, full jitter); False when the
        deadline comes first."""
        pause = random.uniform(0, min(_BACKOFF_CAP_S, base * 2**attempt)) if base else 0.0
        if self.clock.monotonic() + pause > deadline:
            return False
        if pause:
            self._sleep(pause)
        return True

    def _now_ms(self) -> int:
        return epoch_ms(self.clock)


#: Upstream codes no retry helps, as the SOAP faults closest to them (spec §9.5).
_SOAP_FOR = {
    "603": AccessDenied,
    "605": UnsupportedOperation,
    "610": UnsupportedOperation,
    "609": RequestNotUnderstood,
    "612": RequestNotUnderstood,
    "701": ParameterRequired,
    "1002": ParameterRequired,
    "1001": BadParameter,
    "1003": BadParameter,
    "1004": LeadNotFound,
    "1006": LeadAttributeBad,
    "1011": LeadKeyBad,
    "1013": ListNotFound,
}


def soap_error(error: UpstreamError, text: str = "") -> MarketoError:
    """The SOAP fault for an upstream refusal; its code and message are kept in the text
    (``text``, when given, says it in the caller's words)."""
    cls = _SOAP_FOR.get(error.code)
    text = text or f"the upstream answered {error.code} {error.message}"
    if cls is None:
        return unreachable(text)
    return cls(f"{cls.short}: {text}")


def _exhausted(code: str, message: str) -> MarketoError:
    if code == "606":
        return RateLimitExceeded(f"Rate Limit Exceeded: the upstream answered {code} {message}")
    if code == "615":
        return ConcurrencyLimitExceeded(
            f"Concurrency Limit Exceeded: the upstream answered {code} {message}"
        )
    return unreachable(f"upstream kept answering {code} {message}")


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    content: bytes
    #: The upstream said the body is JSON (a file download's refusal is).
    is_json: bool = True


def _json(response: Answer) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        if response.status_code in (401, 400):
            return {}
        raise unreachable(f"answer is not a JSON object (HTTP {response.status_code})")
    return data


def _first_error(data: Mapping[str, Any], response: Answer) -> tuple[str, str]:
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code", "")), str(errors[0].get("message", ""))
    return "", f"success false without errors (HTTP {response.status_code})"
