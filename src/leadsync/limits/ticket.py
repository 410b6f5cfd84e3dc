"""What the HTTP layer must do about one call, decided deep inside it.

The HTTP layer (``leadsync.admin.shaper``) puts a fresh ``CallTicket`` in ``CURRENT`` before
it runs the SOAP route; the guard, running in a worker thread that inherits the context,
writes its decision on the ticket; the HTTP layer carries it out on the response. Without an
HTTP layer (the service called in-process) there is no ticket and the guard falls back to
what it can do alone.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class CallTicket:
    #: Seconds to wait before answering.
    delay: float = 0.0
    #: Close the connection instead of answering.
    drop: bool = False
    #: Answer with this HTTP status and no SOAP body.
    status: int | None = None
    #: Ends the call's concurrency lease; set when the lease must outlast the delay.
    release: Callable[[], None] | None = None


CURRENT: ContextVar[CallTicket | None] = ContextVar("leadsync_call_ticket", default=None)
