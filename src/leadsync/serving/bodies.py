"""Request bodies read into memory within two bounds: one body's size, and the bytes of all
bodies being read at once across the process's connections.

A body is read only after it has reserved its size (the declared Content-Length, or the
per-body cap when none is declared) from the process's budget. While no budget is free the
body waits unread, so the connection holds only what the server's socket buffers hold;
if the wait lasts too long the call gets a fault it may retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import ClientDisconnect, Request

log = logging.getLogger("leadsync.connections")


class BodyTooLarge(Exception):
    pass


class BodyBudgetExhausted(Exception):
    pass


class ClientGone(Exception):
    """The client closed its connection before its request body arrived in full."""


class BodyBudget:
    """Bytes that request bodies may hold in memory at once; waiting reservations are served
    in arrival order."""

    def __init__(self, total: int, wait_seconds: float) -> None:
        self.total = total
        self.available = total
        self.wait_seconds = wait_seconds
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    @asynccontextmanager
    async def reserve(self, size: int) -> AsyncIterator[None]:
        size = min(size, self.total)
        await self._acquire(size)
        try:
            yield
        finally:
            self.available += size
            self._wake()

    async def _acquire(self, size: int) -> None:
        if not self._waiters and self.available >= size:
            self.available -= size
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (size, waiter)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.wait_seconds)
        except (TimeoutError, asyncio.CancelledError):
            if waiter.done() and not waiter.cancelled():
                self.available += size  # granted just as the wait ended: give it back
            else:
                self._waiters.remove(entry)
                waiter.cancel()
            self._wake()
            raise BodyBudgetExhausted from None

    def _wake(self) -> None:
        while self._waiters and self._waiters[0][0] <= self.available:
            size, waiter = self._waiters.pop(0)
            if waiter.done():
                continue
            self.available -= size
            waiter.set_result(None)


async def read_body(request: Request, limit: int, budget: BodyBudget) -> bytearray:
    """The whole body, at most ``limit`` bytes, read within ``budget``.

    Raises BodyTooLarge (after reading and dropping the rest of the body, so that the client,
    whatever its ``Connection`` header, is reading when the answer comes), BodyBudgetExhausted
    or ClientGone.
    """
    declared_header = request.headers.get("content-length")
    declared = int(declared_header) if declared_header and declared_header.isdigit() else None
    stream = request.stream()
    try:
        if declared is not None and declared > limit:
            await _drain(stream, limit)
            raise BodyTooLarge
        async with budget.reserve(declared if declared is not None else limit):
            # One buffer, filled in place: joining chunks would hold the body twice.
            body = bytearray(declared or 0)
            size = 0
            async for chunk in stream:
                end = size + len(chunk)
                if end > limit:
                    del body
                    await _drain(stream, limit)
                    raise BodyTooLarge
                body[size:end] = chunk
                size = end
            del body[size:]
            return body
    except ClientDisconnect:
        raise ClientGone from None


async def _drain(stream: AsyncIterator[bytes], most: int) -> None:
    """Read and drop up to ``most`` more bytes of the body; the connection's body timeout
    bounds how long this takes."""
    dropped = 0
    async for chunk in stream:
        dropped += len(chunk)
        if dropped > most:
            return
