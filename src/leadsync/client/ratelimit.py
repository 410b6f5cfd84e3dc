"""A call budget shared by every thread (and, if handed around, every Client) that uses it.

Marketo allows 100 calls in any 20 seconds per instance (docs/limits.md); the budget is a sliding
window over the start times of the calls made, so it never bursts past the server's count.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """At most ``calls`` acquisitions in any ``per`` seconds."""

    def __init__(
        self,
        calls: int = 100,
        per: float = 20.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls < 1 or per <= 0:
            raise ValueError("a rate limit needs at least one call in a positive period")
        self.calls = calls
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._starts: collections.deque[float] = collections.deque()
        self._paused_until = 0.0
        #: When the callers waiting for room now will have it (the clock's time; 0: none
        #: wait), so a progress display can say it is the budget that holds the push.
        self.waiting_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str) -> RateLimiter | None:
        """``"100/20"`` (calls per seconds), ``"100/20s"``; ``"0"`` or ``"none"`` for no limit."""
        raw = text.strip().lower()
        if raw in ("0", "none", "off", "unlimited"):
            return None
        calls, sep, per = raw.partition("/")
        try:
            if not sep:
                raise ValueError
            return cls(int(calls), float(per.removesuffix("s")))
        except ValueError:
            raise ValueError(
                f"a rate limit looks like 100/20 (calls/seconds), not {text!r}"
            ) from None

    def acquire(self) -> float:
        """Wait for room in the window and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                horizon = now - self.per
                while self._starts and self._starts[0] <= horizon:
                    self._starts.popleft()
                delay = self._paused_until - now
                if len(self._starts) >= self.calls:
                    delay = max(delay, self._starts[0] + self.per - now)
                if delay <= 0:
                    self._starts.append(now)
                    return waited
                self.waiting_until = max(self.waiting_until, now + delay)
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said the budget is spent)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def waiting(self) -> float:
        """Seconds until the callers waiting now have room; 0 when none waits."""
        return max(0.0, self.waiting_until - self._clock())

    def __str__(self) -> str:
        return f"{self.calls}/{self.per:g}s"

    def __repr__(self) -> str:
        return f"RateLimiter({self.calls}/{self.per:g}s)"
