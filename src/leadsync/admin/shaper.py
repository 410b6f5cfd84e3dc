"""The HTTP side of fault rules: a slow answer, a dropped connection, a bare HTTP status.

``CallShaper`` hands every SOAP and REST call a ``CallTicket`` (see ``leadsync.limits.ticket``) and
carries out what the guard wrote on it when the response starts. It wraps the whole
application, outside Starlette's own error middleware, because only there is ``send`` the
server's own, through which the connection can be closed without sending a byte.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadsync.config import Settings
from leadsync.limits.guard import fault_injection_enabled
from leadsync.limits.ticket import CURRENT, CallTicket

SOAP_PREFIX = "/soap/"
#: REST calls of any method (identity calls are never limited nor faulted).
REST_PREFIXES = ("/rest/", "/bulk/")


def shape_calls(app: Starlette, settings: Settings) -> None:
    """Install the shaper around ``app`` when fault rules can exist (otherwise calls pay
    nothing for it)."""
    if fault_injection_enabled(settings):
        app.middleware_stack = CallShaper(app.build_middleware_stack())


class CallShaper:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _shaped(scope):
            await self.app(scope, receive, send)
            return
        ticket = CallTicket()
        shaped = _ShapedSend(ticket, send)
        token = CURRENT.set(ticket)
        try:
            await self.app(scope, receive, shaped)
        finally:
            CURRENT.reset(token)
            await _release(ticket)


def _shaped(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    if path.startswith(SOAP_PREFIX):
        return scope.get("method") == "POST"
    return path.startswith(REST_PREFIXES)


async def _release(ticket: CallTicket) -> None:
    release, ticket.release = ticket.release, None
    if release is not None:
        await anyio.to_thread.run_sync(release)


class _ShapedSend:
    def __init__(self, ticket: CallTicket, send: Send) -> None:
        self.ticket = ticket
        self.send = send
        #: The original response is being swallowed (dropped or replaced).
        self.swallow = False

    async def __call__(self, message: Message) -> None:
        if self.swallow:
            return
        ticket = self.ticket
        if message["type"] == "http.response.start":
            if ticket.delay:
                await anyio.sleep(ticket.delay)
            # Before the answer leaves: a client that sends its next call as soon as it has
            # one must find the slot free.
            await _release(ticket)
            if ticket.drop:
                self.swallow = True
                await _drop(self.send)
                return
            if ticket.status is not None:
                self.swallow = True
                await _answer_status(self.send, ticket.status)
                return
        await self.send(message)


async def _drop(send: Send) -> None:
    # uvicorn's send is a method of the request's cycle, which holds the connection.
    cycle = getattr(send, "__self__", None)
    abort = getattr(getattr(cycle, "transport", None), "abort", None)
    if callable(abort):
        abort()
        # Let the server see the connection gone before the application returns, so that it
        # does not try to answer in its place.
        for _ in range(10):
            await asyncio.sleep(0)
            if getattr(cycle, "disconnected", True):
                break
        return
    # Not served by uvicorn: promise a body and end without it; the server then closes.
    await send(
        {"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"1")]}
    )


async def _answer_status(send: Send, status: int) -> None:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body = f"{phrase}\n".encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
