"""The check every authenticated call passes before its handler runs: limits, then faults;
and the usage count every call adds to when it ends.

Both are decided in the database, so they hold across every process sharing it. A call that
a limit refuses, or that a fault rule answers for, never reaches its handler and so writes
nothing (but its usage count). The order, and why:

1. Limits (docs/limits.md): the daily quota (20015), then the rate (20023), then concurrency
   (20024). A refused call counts as a reject, not as a call.
2. Fault rules (docs/testing.md), only for admitted calls, so an injected fault uses up a
   call of the quota just as the real failure would have.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.config import Settings
from leadsync.errors import (
    ConcurrencyLimitExceeded,
    InternalError,
    MarketoError,
    RateLimitExceeded,
    RequestLimitExceeded,
    StoreUnavailable,
    error_for_code,
)
from leadsync.limits.admission import Verdict, decide
from leadsync.limits.faults import choose, rule_text
from leadsync.limits.owner import current_owner, is_dead
from leadsync.limits.policy import DayClock, quota_zone, server_limits
from leadsync.limits.ticket import CURRENT
from leadsync.store.base import Store
from leadsync.store.control import (
    QUOTA_CODE,
    RATE_CODE,
    FaultStore,
    Lease,
    LimitStore,
    LimitValues,
    UsageCount,
)

log = logging.getLogger("leadsync.limits")
#: How long a server without server-wide limits may take to notice a user's new limits.
LIMITED_USERS_TTL_S = 1.0


class CallPass:
    """An admitted call: its concurrency lease, if it took one, and what its usage adds."""

    __slots__ = (
        "closed",
        "day",
        "error",
        "handed_over",
        "lease_id",
        "records",
        "service",
        "user_id",
    )

    def __init__(self, user_id: str, day: int, lease_id: str | None) -> None:
        self.user_id = user_id
        self.day = day
        self.lease_id = lease_id
        #: Records the call carried, set by its handler's caller.
        self.records = 0
        #: The code of the error the call was answered with (0: none), set the same way.
        self.error = 0
        #: The REST service that made the call, when one did.
        self.service = ""
        #: The HTTP layer ends the lease instead (after a delay).
        self.handed_over = False
        self.closed = False


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
        monotonic: Callable[[], float] = time.monotonic,
        dead: Callable[[str], bool] = is_dead,
        error_for: Callable[[int], Exception] = error_for_code,
    ) -> None:
        #: Builds the error a fault rule's code raises (the REST API's catalogue differs).
        self._error_for = error_for
        self._limits = limits
        self._faults = faults
        self._defaults = defaults
        #: With no server-wide limit, only users with limits of their own are checked; who
        #: they are is read at most once a second, so that a server nobody limits pays no
        #: database work for limits on any call (only the usage count).
        self._server_limited = defaults.any
        self._limited_users: frozenset[str] = frozenset()
        self._limited_users_due = 0.0
        self._days = days
        self._lease_ms = int(lease_seconds * 1000)
        self._clock = clock
        self._monotonic = monotonic
        self._dead = dead

    @classmethod
    def from_settings(
        cls,
        store: Store,
        settings: Settings,
        error_for: Callable[[int], Exception] = error_for_code,
        clock: Clock = SYSTEM_CLOCK,
    ) -> Guard:
        guard = cls(
            store.limits(),
            store.faults() if fault_injection_enabled(settings) else None,
            defaults=server_limits(settings),
            days=DayClock(quota_zone(settings)),
            lease_seconds=settings.lease_seconds,
            error_for=error_for,
            clock=lambda: clock.now().timestamp(),
            monotonic=clock.monotonic,
        )
        guard.reap_dead()
        return guard

    @property
    def may_refuse(self) -> bool:
        """Whether a limit may refuse some call (as far as this process knows), so that the
        HTTP layer must admit calls as they arrive rather than when a worker is free."""
        return self._server_limited or bool(self._limited_users)

    def enter(self, user_id: str, operation: str, service: str = "") -> CallPass:
        """Admit an authenticated call, or raise the fault that refuses it (limits first,
        then fault rules). The caller must ``leave`` an admitted call, however it ends.
        ``service``: the REST service making the call, whose own count it adds to too."""
        now = self._clock()
        day = self._days.day(now)
        try:
            lease_id = self._check_limits(user_id, now, day)
        except MarketoError as error:
            self._count(UsageCount(user_id, day, rejected=error.code))
            raise
        admitted = CallPass(user_id, day, lease_id)
        admitted.service = service
        if self._faults is not None:
            try:
                self._apply_faults(admitted, operation)
            except BaseException:
                self.leave(admitted)
                raise
        return admitted

    def leave(self, admitted: CallPass) -> None:
        """The call is over: count its usage and end its lease (unless the HTTP layer ends it
        later). Calling it again does nothing."""
        if admitted.closed:
            return
        admitted.closed = True
        release = admitted.lease_id if not admitted.handed_over else None
        count = UsageCount(
            admitted.user_id,
            admitted.day,
            1,
            admitted.records,
            error=admitted.error,
            service=admitted.service,
        )
        self._count(count, release)

    def count_error(self, user_id: str, code: int) -> None:
        """Count an error answered to a call that was never admitted (or whose pass was left
        before its answer was known), under ``user_id`` and today."""
        self._count(UsageCount(user_id, self._days.day(self._clock()), error=code))

    @contextmanager
    def admit(self, user_id: str, operation: str) -> Iterator[CallPass]:
        """``enter`` and ``leave`` around a handler run in-process."""
        admitted = self.enter(user_id, operation)
        try:
            yield admitted
        finally:
            self.leave(admitted)

    def reap_dead(self) -> int:
        """Reap the leases of processes known dead (a restarted server's predecessor)."""
        try:
            dead = [lease.lease_id for lease in self._limits.leases() if self._dead(lease.owner)]
            return self._limits.reap(dead) if dead else 0
        except Exception:
            log.exception("could not reap the concurrency leases of dead processes")
            return 0

    def _release(self, lease_id: str) -> None:
        try:
            self._limits.release(lease_id)
        except StoreUnavailable as exc:
            log.error("could not end concurrency lease %s: %s", lease_id, exc)
        except Exception:
            # The lease is reaped later; the call's answer must not depend on this.
            log.exception("could not end concurrency lease %s", lease_id)

    def _count(self, count: UsageCount, release: str | None = None) -> None:
        try:
            self._limits.count_usage(count, release=release)
        except StoreUnavailable as exc:
            log.error("could not count the usage of %s: %s", count.user_id, exc)
        except Exception:
            # An unended lease is reaped later; the call's answer must not depend on this.
            log.exception("could not count the usage of %s", count.user_id)

    # -- limits ---------------------------------------------------------------------------
    def limits_changed(self) -> None:
        """A user's own limits were changed through this process: read them on the next call
        (other processes see the change within ``LIMITED_USERS_TTL_S``)."""
        self._limited_users_due = 0.0

    def _limited(self, user_id: str) -> bool:
        if self._server_limited:
            return True
        now = self._monotonic()
        if now >= self._limited_users_due:
            self._limited_users = self._limits.limited_users()
            self._limited_users_due = now + LIMITED_USERS_TTL_S
        return user_id in self._limited_users

    def _check_limits(self, user_id: str, now: float, day: int) -> str | None:
        """The lease the admitted call took, if any; raises the refusal."""
        if not self._limited(user_id):
            return None
        now_ms = int(now * 1000)
        # Named when taken: a process forked after the guard was made is an owner of its own.
        lease = Lease(uuid.uuid4().hex, current_owner(), now_ms + self._lease_ms)
        verdict = self._limits.admit(
            user_id,
            functools.partial(
                decide,
                now_ms=now_ms,
                day=day,
                defaults=self._defaults,
                lease=lease,
                dead=self._dead,
            ),
        )
        if not verdict.admitted:
            raise self._refusal(verdict, now_ms)
        return lease.lease_id if verdict.limits.concurrency else None

    def _refusal(self, verdict: Verdict, now_ms: int) -> MarketoError:
        limits = verdict.limits
        if verdict.code == QUOTA_CODE:
            return RequestLimitExceeded(
                f"Request Limit Exceeded: the quota of {limits.daily_quota} calls a day is"
                f" used up; it resets at midnight {self._days.zone.key}"
            )
        if verdict.code == RATE_CODE:
            wait = max(verdict.retry_at_ms - now_ms, 0) / 1000
            window = (limits.rate_window_ms or 0) / 1000
            return RateLimitExceeded(
                f"Rate Limit Exceeded: more than {limits.rate_calls} calls in {window:g} s;"
                f" retry in {wait:.1f} s"
            )
        return ConcurrencyLimitExceeded(
            f"Concurrency Limit Exceeded: more than {limits.concurrency} concurrent calls"
        )

    # -- faults ---------------------------------------------------------------------------
    def _apply_faults(self, admitted: CallPass, operation: str) -> None:
        assert self._faults is not None
        user_id = admitted.user_id
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
                lease_id = admitted.lease_id
                if lease_id is not None:
                    # A slow answer keeps its concurrency slot until it is sent, as it would
                    # in Marketo; the HTTP layer ends the lease after the delay.
                    ticket.release = functools.partial(self._release, lease_id)
                    admitted.handed_over = True
        outcome = next((rule for rule in fired if rule.outcome), None)
        if outcome is None:
            return
        if outcome.code is not None:
            raise self._error_for(outcome.code)
        if outcome.drop == "after":
            if ticket is not None:
                ticket.drop = True
            return
        if ticket is not None:
            ticket.drop = outcome.drop is not None
            ticket.status = outcome.status
        raise WithheldCall(f"Internal Error: withheld by fault rule {outcome.id}")
