"""The check every authenticated call passes before its handler runs: limits, then faults.

Both are decided in the database, so they hold across every process sharing it. A call that
a limit refuses, or that a fault rule answers for, never reaches its handler and so writes
nothing. The order, and why:

1. Limits (docs/limits.md): the daily quota (20015), then the rate (20023), then concurrency
   (20024). A refused call counts as a reject, not as a call.
2. Fault rules (docs/testing.md), only for admitted calls, so an injected fault uses up a
   call of the quota just as the real failure would have.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from leadsync.config import Settings
from leadsync.errors import (
    ConcurrencyLimitExceeded,
    InternalError,
    MarketoError,
    RateLimitExceeded,
    RequestLimitExceeded,
    error_for_code,
)
from leadsync.limits.faults import choose, rule_text
from leadsync.limits.policy import DayClock, quota_zone, server_limits
from leadsync.limits.ticket import CURRENT
from leadsync.store.base import Store
from leadsync.store.control import (
    QUOTA_CODE,
    RATE_CODE,
    Admission,
    AdmissionRequest,
    FaultStore,
    LimitStore,
    LimitValues,
)

log = logging.getLogger("leadsync.limits")
#: How long a server without server-wide limits may take to notice a user's new limits.
LIMITED_USERS_TTL_S = 1.0


class _Lease:
    """A concurrency slot held by one call."""

    __slots__ = ("handed_over", "lease_id", "store", "user_id")

    def __init__(self, store: LimitStore, user_id: str, lease_id: str) -> None:
        self.store = store
        self.user_id = user_id
        self.lease_id = lease_id
        #: The HTTP layer ends it instead (after a delay).
        self.handed_over = False

    def release(self) -> None:
        try:
            self.store.release(self.user_id, self.lease_id)
        except Exception:
            # The lease expires on its own; the call's answer must not depend on this.
            log.exception("could not end concurrency lease %s of %s", self.lease_id, self.user_id)


class WithheldCall(InternalError):
    """A fault rule answers for the HTTP layer (a dropped connection or a bare HTTP status).
    Only a caller without that layer sees this fault."""


def fault_injection_enabled(settings: Settings) -> bool:
    """Rules are consulted only when some could exist: given at start, or addable through
    the admin API. Otherwise a call pays nothing for them."""
    return bool(settings.inject.strip() or settings.admin_token)


class Guard:
    def __init__(
        self,
        limits: LimitStore,
        faults: FaultStore | None,
        *,
        defaults: LimitValues,
        days: DayClock,
        lease_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = limits
        self._faults = faults
        self._defaults = defaults
        #: With no server-wide limit, only users with limits of their own are counted; who
        #: they are is read at most once a second, so that a server nobody limits pays no
        #: database work for limits on any call.
        self._server_limited = defaults.any
        self._limited_users: frozenset[str] = frozenset()
        self._limited_users_due = 0.0
        self._days = days
        self._lease_ms = int(lease_seconds * 1000)
        self._clock = clock

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> Guard:
        return cls(
            store.limits(),
            store.faults() if fault_injection_enabled(settings) else None,
            defaults=server_limits(settings),
            days=DayClock(quota_zone(settings)),
            lease_seconds=settings.lease_seconds,
        )

    @contextmanager
    def admit(self, user_id: str, operation: str) -> Iterator[None]:
        """Around the handler of one call: raises the fault that refuses it, or lets it run
        and ends its concurrency lease when it is over."""
        lease = self._check_limits(user_id)
        try:
            if self._faults is not None:
                self._apply_faults(user_id, operation, lease)
            yield
        finally:
            if lease is not None and not lease.handed_over:
                lease.release()

    # -- limits ---------------------------------------------------------------------------
    def limits_changed(self) -> None:
        """A user's own limits were changed through this process: read them on the next call
        (other processes see the change within ``LIMITED_USERS_TTL_S``)."""
        self._limited_users_due = 0.0

    def _limited(self, user_id: str) -> bool:
        if self._server_limited:
            return True
        now = time.monotonic()
        if now >= self._limited_users_due:
            self._limited_users = self._limits.limited_users()
            self._limited_users_due = now + LIMITED_USERS_TTL_S
        return user_id in self._limited_users

    def _check_limits(self, user_id: str) -> _Lease | None:
        if not self._limited(user_id):
            return None
        now = self._clock()
        now_ms = int(now * 1000)
        request = AdmissionRequest(
            user_id=user_id,
            now_ms=now_ms,
            day=self._days.day(now),
            defaults=self._defaults,
            lease_id=uuid.uuid4().hex,
            lease_expires_ms=now_ms + self._lease_ms,
        )
        admission = self._limits.admit(request)
        if admission.code:
            raise self._refusal(admission, now_ms)
        return _Lease(self._limits, user_id, request.lease_id) if admission.leased else None

    def _refusal(self, admission: Admission, now_ms: int) -> MarketoError:
        limits = admission.limits
        if admission.code == QUOTA_CODE:
            return RequestLimitExceeded(
                f"Request Limit Exceeded: the quota of {limits.daily_quota} calls a day is"
                f" used up; it resets at midnight {self._days.zone.key}"
            )
        if admission.code == RATE_CODE:
            wait = max(admission.retry_at_ms - now_ms, 0) / 1000
            window = (limits.rate_window_ms or 0) / 1000
            return RateLimitExceeded(
                f"Rate Limit Exceeded: more than {limits.rate_calls} calls in {window:g} s;"
                f" retry in {wait:.1f} s"
            )
        return ConcurrencyLimitExceeded(
            f"Concurrency Limit Exceeded: more than {limits.concurrency} concurrent calls"
        )

    # -- faults ---------------------------------------------------------------------------
    def _apply_faults(self, user_id: str, operation: str, lease: _Lease | None) -> None:
        assert self._faults is not None
        fired = self._faults.fire(user_id, operation, choose)
        if not fired:
            return
        log.info(
            "fault rules fired: %s user=%s op=%s",
            "; ".join(f"{rule.id} ({rule_text(rule)})" for rule in fired),
            user_id,
            operation,
        )
        ticket = CURRENT.get()
        delay = sum(rule.delay_ms for rule in fired) / 1000
        if delay:
            if ticket is None:
                time.sleep(delay)
            else:
                ticket.delay = delay
                if lease is not None:
                    # A slow answer keeps its concurrency slot until it is sent, as it would
                    # in Marketo; the HTTP layer ends the lease after the delay.
                    ticket.release = lease.release
                    lease.handed_over = True
        outcome = next((rule for rule in fired if rule.outcome), None)
        if outcome is None:
            return
        if outcome.code is not None:
            raise error_for_code(outcome.code)
        if outcome.drop == "after":
            if ticket is not None:
                ticket.drop = True
            return
        if ticket is not None:
            ticket.drop = outcome.drop is not None
            ticket.status = outcome.status
        raise WithheldCall(f"Internal Error: withheld by fault rule {outcome.id}")
