"""Whether a call may run: the one place where the daily quota, the rate and concurrency
are decided (docs/limits.md).

``decide`` is a pure function of the user's stored state, the time and the limits: every
backend locks and reads that state, calls it, and writes back what it returns, so the rule
is written once for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from leadsync.store.control import (
    CONCURRENCY_CODE,
    QUOTA_CODE,
    RATE_CODE,
    Counters,
    CounterState,
    CounterWrite,
    Lease,
    LimitValues,
    in_window,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    #: 0 when admitted, else the code of the limit that refused the call.
    code: int
    #: The limits that applied (the user's own over the server's).
    limits: LimitValues
    #: Counts after this call: admitted calls today, in the rate window, leases live.
    day_calls: int
    window_calls: int
    in_flight: int
    #: For a rate refusal: when the oldest call in the window leaves it.
    retry_at_ms: int = 0

    @property
    def admitted(self) -> bool:
        return self.code == 0


def decide(
    state: CounterState,
    *,
    now_ms: int,
    day: int,
    defaults: LimitValues,
    lease: Lease,
    dead: Callable[[str], bool],
) -> tuple[Verdict, CounterWrite | None]:
    """The verdict on one call and what to store for it.

    Checks the daily quota, then the rate, then concurrency; the first limit the call would
    break refuses it, and a refused call changes nothing (None: nothing to write). ``lease``
    is the slot the call takes if a concurrency limit applies. A stored lease counts until it
    expires or ``dead(owner)`` says its process is gone; those are reaped when the call is
    admitted.
    """
    limits = state.overrides.over(defaults)
    quota = limits.daily_quota or 0
    rate = limits.rate_calls or 0
    window = limits.rate_window_ms or 0
    concurrency = limits.concurrency or 0
    counters = state.counters
    day_calls = counters.day_calls if counters.day == day else 0
    recent = in_window(counters.recent, now_ms=now_ms, window_ms=window) if rate else ()
    live = state.leases
    reaped: tuple[str, ...] = ()
    if concurrency and len(live) >= concurrency:
        # Only a call that needs the slot looks for abandoned leases: liveness costs a probe.
        gone = tuple(held for held in live if held.expires_ms <= now_ms or dead(held.owner))
        if gone:
            live = tuple(held for held in live if held not in gone)
            reaped = tuple(held.lease_id for held in gone)
    code = 0
    if quota and day_calls >= quota:
        code = QUOTA_CODE
    elif rate and len(recent) >= rate:
        code = RATE_CODE
    elif concurrency and len(live) >= concurrency:
        code = CONCURRENCY_CODE
    if code:
        retry_at = recent[0] + window if code == RATE_CODE and recent else 0
        verdict = Verdict(code, limits, day_calls, len(recent), len(live), retry_at)
        return verdict, None
    if rate:
        recent = (*recent, now_ms)[-rate:]
    taken = lease if concurrency else None
    in_flight = len(live) + (taken is not None)
    verdict = Verdict(0, limits, day_calls + 1, len(recent), in_flight)
    return verdict, CounterWrite(Counters(day, day_calls + 1, recent), taken, reaped)
