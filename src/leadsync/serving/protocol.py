"""uvicorn's httptools protocol with the bounds it lacks: header size, header and body
timeouts, and a cap on open connections.

uvicorn (httptools) is the fastest of the servers compared in docs/deployment.md, but it
accepts headers of any size, never times out a request that is still arriving, and keeps
every connection it accepts. This subclass adds those bounds on the connection itself,
before any request reaches the application, so an unauthenticated client costs at most
what the settings allow. Keep-alive idle time is uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("leadsync.connections")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    #: Bytes of request line and headers one request may send.
    max_header_bytes: int = 64 * 1024
    #: Seconds a connection has to send a complete request head, counted from its first
    #: byte (or from the connection's start, for the first request).
    header_timeout: float = 10.0
    #: A request body must bring at least ``body_min_bytes`` bytes in every window of
    #: ``body_timeout`` seconds while the server is reading it.
    body_timeout: float = 10.0
    body_min_bytes: int = 1024
    #: Open connections per process; more are answered 503 and closed at once.
    max_connections: int = 500


def _answer(status: bytes, reason: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b" " + reason + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: "
        + str(len(reason) + 1).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + reason
        + b"\n"
    )


_TOO_MANY = _answer(b"503", b"Service Unavailable")
_HEAD_TOO_LARGE = _answer(b"431", b"Request Header Fields Too Large")
_TIMEOUT = _answer(b"408", b"Request Timeout")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """One connection, with the bounds of ``limits`` (set once per process)."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: True between the end of one request's body and the end of the next one's head.
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_bytes = 0
        self._body_window_start = 0
        self._refused = False

    # -- connection -----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refused = True
            log.warning("refused a connection: %d open", len(self.connections) - 1)
            self._reject(_TOO_MANY)
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused or self.transport.is_closing():
            return
        if self._in_head and self._head_timer is None:
            # The first byte of a request after an idle keep-alive connection.
            self._arm_head_timer()
        super().data_received(data)
        if self._in_head and self._head_bytes > self.limits.max_header_bytes:
            log.info("closed a connection whose request head passed %d bytes", self._head_bytes)
            self._reject(_HEAD_TOO_LARGE)

    # -- parser callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes <= self.limits.max_header_bytes:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes <= self.limits.max_header_bytes:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._head_bytes > self.limits.max_header_bytes:
            return  # answered 431 once the feed returns
        self._in_head = False
        self._cancel_head_timer()
        self._body_bytes = 0
        self._arm_body_timer()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._in_head:
            return  # the body of a request refused for its head
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._in_head:
            return
        self._cancel_body_timer()
        self._in_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next head's clock starts with its first byte (data_received); until then the
        # keep-alive timeout applies.
        self._cancel_head_timer()

    # -- timers ---------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            busy = self.cycle is not None and not self.cycle.response_complete
            if busy:
                return  # a response is still being worked on; its body arrived in full
            log.info("closed a connection that sent no complete request head in time")
            self._reject(_TIMEOUT)

    def _arm_body_timer(self) -> None:
        self._body_window_start = self._body_bytes
        self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_check)

    def _body_check(self) -> None:
        self._body_timer = None
        if self._in_head or self.transport.is_closing():
            return
        received = self._body_bytes - self._body_window_start
        # While the server itself holds reading back (the application is not reading the
        # body yet), the client is not to blame for a slow window.
        if received < self.limits.body_min_bytes and not self.flow.read_paused:
            log.info("closed a connection whose request body stalled (%d bytes)", received)
            self.transport.close()
            return
        self._arm_body_timer()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()

    def _reject(self, answer: bytes) -> None:
        self._cancel_timers()
        if self.transport.is_closing():
            return
        self.transport.write(answer)
        self.transport.close()


def use_limits(limits: ConnectionLimits) -> None:
    """Set the bounds of every connection this process accepts from now on."""
    BoundedHttpToolsProtocol.limits = limits
