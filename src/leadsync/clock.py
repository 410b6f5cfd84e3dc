"""The one source of time: every operation reads the time from a ``Clock`` it is given.

Production uses ``SYSTEM_CLOCK``. Tests build the app or call operations with a
``SettableClock`` and move it (``advance``, ``set``) instead of sleeping::

    clock = SettableClock()
    app = create_app(settings, store, clock=clock)
    ...                                   # calls made now carry clock.now()
    clock.advance(seconds=90)             # the next calls happen 90 seconds later
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall-clock time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds since an arbitrary start, never going back: for intervals and TTLs."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK: Clock = SystemClock()


def epoch_ms(clock: Clock) -> int:
    """The clock's wall-clock time in milliseconds since the epoch, as the bridge stores it."""
    return int(clock.now().timestamp() * 1000)


class SettableClock:
    """A clock that stands still until a test moves it; safe to share between threads.

    It starts at ``start``, or at the machine's time to the whole second, so that requests
    signed with the real time stay inside the authentication window until the clock has
    been moved 15 minutes away.
    """

    def __init__(self, start: datetime | None = None) -> None:
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            raise ValueError("a SettableClock starts at a timezone-aware time")
        self._lock = threading.Lock()
        self._now = start.astimezone(UTC)
        self._monotonic = 0.0

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, delta: timedelta | None = None, *, seconds: float = 0) -> datetime:
        """Move both clocks forward by ``delta`` plus ``seconds``; the new time."""
        step = (delta or timedelta()) + timedelta(seconds=seconds)
        if step < timedelta():
            raise ValueError("advance moves forward; use set() to step the wall clock back")
        with self._lock:
            self._now += step
            self._monotonic += step.total_seconds()
            return self._now

    def set(self, at: datetime) -> None:
        """Set the wall clock, backwards too (as an NTP step does); the monotonic clock moves
        on by the step when it goes forward and stays put when it goes back."""
        if at.tzinfo is None:
            raise ValueError("set() takes a timezone-aware time")
        with self._lock:
            step = (at - self._now).total_seconds()
            self._now = at.astimezone(UTC)
            self._monotonic += max(step, 0.0)
