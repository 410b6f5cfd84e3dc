"""The upstream's call budget, shared by every worker and host on the database: Marketo's
100 calls per 20 s, 10 in flight and the daily quota (spec §5.5).

It is counted by the limits machinery SOAP and REST calls use (``limits.admission.decide``
on the ``LimitStore``), under the reserved subject ``@upstream``. Where a limit would refuse
a call, the bridge waits for its turn instead, up to the SOAP call's deadline: the upstream
never sees more than the budget, and never answers 606 or 615 because of this instance.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable

from leadsync.clock import Clock, epoch_ms
from leadsync.config import Settings
from leadsync.errors import ConcurrencyLimitExceeded, RateLimitExceeded, RequestLimitExceeded
from leadsync.flushing import FlushThread
from leadsync.limits.admission import decide
from leadsync.limits.owner import current_owner, is_dead
from leadsync.limits.policy import DayClock, parse_rate, quota_zone
from leadsync.store.base import AlreadyExists, Store
from leadsync.store.control import (
    CONCURRENCY_CODE,
    QUOTA_CODE,
    RATE_CODE,
    Lease,
    LimitValues,
    UsageCount,
)

#: The subject upstream calls are counted under (an API user no one can sign as).
UPSTREAM_SUBJECT = "@upstream"
#: Added to the rate window (see ``budget_limits``).
WINDOW_MARGIN_MS = 200
#: How often a call waiting for a concurrency slot looks again (jittered).
_SLOT_POLL_S = 0.05

log = logging.getLogger("leadsync.bridge")


def budget_limits(settings: Settings) -> LimitValues:
    calls, window = (
        parse_rate(settings.upstream_rate_limit) if settings.upstream_rate_limit else (0, None)
    )
    return LimitValues(
        daily_quota=settings.upstream_daily_quota,
        rate_calls=calls,
        # The upstream counts a call when it arrives, a little after the bridge counted it,
        # and not every call travels as fast: a margin keeps its window from seeing one more.
        rate_window_ms=(window or 20_000) + WINDOW_MARGIN_MS,
        concurrency=settings.upstream_concurrency,
    )


class Slot:
    """One upstream call's place in the budget."""

    __slots__ = ("day", "lease_id")

    def __init__(self, day: int, lease_id: str | None) -> None:
        self.day = day
        self.lease_id = lease_id


class Budget:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limits = store.limits()
        self.values = budget_limits(settings)
        self._days = DayClock(quota_zone(settings))
        self._lease_ms = settings.lease_seconds * 1000
        self._clock = clock
        self._sleep = sleep
        self._releases = _Releases(self._limits.reap)
        if store.get_user(UPSTREAM_SUBJECT) is None:
            # Another worker may make it first.
            with contextlib.suppress(AlreadyExists):
                store.add_user(UPSTREAM_SUBJECT, secrets.token_hex(32))

    def take(self, deadline: float) -> Slot:
        """A slot for one upstream call, waiting for it until ``deadline`` (the clock's
        monotonic time); raises 20015 when the daily quota is spent, 20023 or 20024 when the
        wait would pass the deadline."""
        if not self.values.any:
            # No budget at all (an upstream that sets no limits): nothing to count.
            return Slot(0, None)
        while True:
            now_ms = epoch_ms(self._clock)
            day = self._days.day(now_ms / 1000)
            lease = Lease(uuid.uuid4().hex, current_owner(), now_ms + self._lease_ms)
            verdict = self._limits.admit(
                UPSTREAM_SUBJECT,
                functools.partial(
                    decide,
                    now_ms=now_ms,
                    day=day,
                    defaults=self.values,
                    lease=lease,
                    dead=is_dead,
                ),
            )
            if verdict.admitted:
                return Slot(day, lease.lease_id if self.values.concurrency else None)
            if verdict.code == QUOTA_CODE:
                raise RequestLimitExceeded(
                    f"Request Limit Exceeded: the upstream's daily quota of"
                    f" {self.values.daily_quota} calls is used up"
                )
            if verdict.code == RATE_CODE:
                pause = max(verdict.retry_at_ms - now_ms, 1) / 1000 + random.uniform(0, 0.01)
            else:
                pause = _SLOT_POLL_S * random.uniform(0.5, 1.5)
            if self._clock.monotonic() + pause > deadline:
                raise self._exhausted(verdict.code)
            self._sleep(pause)

    def give_back(self, slot: Slot) -> None:
        """The call is over: count it and free its concurrency slot.

        Neither waits for the database: the count joins the store's batched usage counts
        (the limits are decided from what ``take`` wrote), and the slot is freed by a thread
        of its own, a moment later. A slot freed late only makes another call wait a little
        longer: the upstream never sees more calls in flight than the budget allows."""
        if not slot.day:
            return
        self._limits.count_usage(UsageCount(UPSTREAM_SUBJECT, slot.day, 1))
        if slot.lease_id is not None:
            self._releases.add(slot.lease_id)

    def close(self) -> None:
        """Free the slots still waiting to be freed."""
        self._releases.close()

    def _exhausted(self, code: int) -> Exception:
        values = self.values
        if code == CONCURRENCY_CODE:
            return ConcurrencyLimitExceeded(
                f"Concurrency Limit Exceeded: {values.concurrency} upstream calls are in flight;"
                " retry later"
            )
        window = (values.rate_window_ms or 0) / 1000
        return RateLimitExceeded(
            f"Rate Limit Exceeded: the upstream's budget of {values.rate_calls} calls in"
            f" {window:g} s is used; retry later"
        )


class _Releases:
    """Leases to end, ended in one transaction per batch by a thread of its own."""

    def __init__(self, end: Callable[[list[str]], int]) -> None:
        self._end = end
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._thread = FlushThread(self.flush, name="leadsync-upstream-slots")

    def add(self, lease_id: str) -> None:
        with self._lock:
            self._pending.append(lease_id)
        if not self._thread.wake():
            self.flush()  # closed: nothing else will free it

    def flush(self) -> bool:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return True
        try:
            self._end(batch)
        except Exception:
            # Still held in the database: tried again, and reaped when their lease expires.
            with self._lock:
                self._pending[:0] = batch
            log.exception("could not free %d upstream call slots yet", len(batch))
            return False
        return True

    def close(self) -> None:
        self._thread.close()


def wait_deadline(clock: Clock, settings: Settings) -> float:
    return clock.monotonic() + settings.upstream_wait_seconds
