"""The storage contract for call limits, usage counts and fault rules (docs/limits.md,
docs/testing.md).

Both must hold across every worker process and host that shares one database, so their
counters live in the database and each decision is made inside one transaction there. The
backends lock, read and write; what to write is decided by the caller (for limits, the pure
function ``leadsync.limits.admission.decide``). Times are passed in by the caller
(milliseconds since the epoch), never read from the database's clock, so a test can drive
them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from leadsync.store.usage_batch import UsageBatch

#: The Marketo codes a limit rejects with, in the order they are checked.
QUOTA_CODE = 20015
RATE_CODE = 20023
CONCURRENCY_CODE = 20024
LIMIT_CODES = (QUOTA_CODE, RATE_CODE, CONCURRENCY_CODE)
#: The most calls a rate limit may allow per window: the store keeps that many call times.
MAX_RATE_CALLS = 1000


class UnknownUser(LookupError):
    """Limits were set for an API user that does not exist."""


@dataclass(frozen=True, slots=True)
class LimitValues:
    """One set of limits. In a user's overrides None means "the server's setting"; in an
    effective set 0 means "no limit"."""

    daily_quota: int | None = None
    rate_calls: int | None = None
    rate_window_ms: int | None = None
    concurrency: int | None = None

    def over(self, defaults: LimitValues) -> LimitValues:
        """These values where set, ``defaults`` elsewhere."""
        return LimitValues(
            daily_quota=_pick(self.daily_quota, defaults.daily_quota),
            rate_calls=_pick(self.rate_calls, defaults.rate_calls),
            rate_window_ms=_pick(self.rate_window_ms, defaults.rate_window_ms),
            concurrency=_pick(self.concurrency, defaults.concurrency),
        )

    @property
    def any(self) -> bool:
        """Whether any limit applies (with these as effective values)."""
        return bool(self.daily_quota or self.rate_calls or self.concurrency)


def _pick(value: int | None, default: int | None) -> int | None:
    return default if value is None else value


#: The field names ``LimitStore.update_limits`` accepts.
LIMIT_FIELDS = ("daily_quota", "rate_calls", "rate_window_ms", "concurrency")


@dataclass(frozen=True, slots=True)
class Lease:
    """A concurrency slot held by one call in flight."""

    lease_id: str
    #: The process that holds it (``leadsync.limits.owner``): its leases are reaped once it
    #: is known to be dead.
    owner: str
    #: When it is considered abandoned whoever holds it (a process on another host that died).
    expires_ms: int


@dataclass(frozen=True, slots=True)
class Counters:
    """The counters that enforce one user's limits, as stored."""

    #: The calendar day (YYYYMMDD) in the quota's time zone that ``day_calls`` counts.
    day: int = 0
    day_calls: int = 0
    #: The times (ms) of the latest admitted calls, oldest first, at most the rate's count.
    recent: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CounterState:
    """What a backend reads, under the user's lock, for one admission."""

    #: The user's own limits (all None when none were set).
    overrides: LimitValues
    counters: Counters
    #: Every lease of the user still stored.
    leases: tuple[Lease, ...]


@dataclass(frozen=True, slots=True)
class CounterWrite:
    """What a backend writes, still under the user's lock, for an admitted call."""

    counters: Counters
    #: The lease to store for the call (None: no concurrency limit applies).
    lease: Lease | None = None
    #: Leases to delete: expired, or held by a process that died.
    reaped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageCount:
    """What one call adds to its user's usage of a day."""

    user_id: str
    day: int
    calls: int = 0
    records: int = 0
    #: The code of the limit that refused the call (0: none did).
    rejected: int = 0
    #: The code of another error the call was answered with (0: none), counted by code.
    error: int = 0
    #: The REST service that made the calls ("": none), whose own count they add to too.
    service: str = ""
    #: How many calls this count stands for: equal counts are summed into one to be written
    #: (``rejected`` and ``error`` count once for each).
    times: int = 1


@dataclass(frozen=True, slots=True)
class Usage:
    user_id: str
    overrides: LimitValues
    #: Calls admitted, records they carried and rejects by code, on the day asked for.
    day_calls: int
    records: int
    rejects: Mapping[int, int]
    #: Calls admitted in the rate window that ends now, and leases held.
    window_calls: int
    in_flight: int


def in_window(times: Iterable[int], *, now_ms: int, window_ms: int) -> tuple[int, ...]:
    """The call times (ms) inside the rate window that ends at ``now_ms``: what admission
    counts against the rate and what usage reports (none without a window)."""
    if not window_ms:
        return ()
    start = now_ms - window_ms
    return tuple(t for t in times if t > start)


def usage_values(count: UsageCount) -> tuple[Any, ...]:
    """What a count adds to its ``call_usage`` row: user, day, calls, records, then the
    rejects by each of ``LIMIT_CODES``."""
    rejects = [count.times if count.rejected == code else 0 for code in LIMIT_CODES]
    return (count.user_id, count.day, count.calls, count.records, *rejects)


def usage_from_row(
    row: Sequence[Any], recent: Iterable[int], *, now_ms: int, window_ms: int
) -> Usage:
    """A ``Usage`` from a backend's usage row: user id, the four overrides, calls, records,
    the three reject counts, (``recent`` read from column 10 by the backend), leases held.
    ``window_ms`` is the server's rate window, for users without their own."""
    overrides = LimitValues(row[1], row[2], row[3], row[4])
    window = overrides.rate_window_ms or window_ms
    return Usage(
        user_id=row[0],
        overrides=overrides,
        day_calls=row[5] or 0,
        records=row[6] or 0,
        rejects=dict(zip(LIMIT_CODES, (n or 0 for n in row[7:10]), strict=True)),
        window_calls=len(in_window(recent, now_ms=now_ms, window_ms=window)),
        in_flight=row[11],
    )


T = TypeVar("T")
#: Given the stored state of one user, the answer for the caller and what to write (None:
#: nothing).
Decide = Callable[[CounterState], tuple[T, CounterWrite | None]]


class LimitStore(abc.ABC):
    """Per-user limit overrides, the counters that enforce limits and usage counts.

    The backends lock, read and write; every verdict is the caller's (``leadsync.limits``).
    """

    @abc.abstractmethod
    def overrides(self, user_id: str) -> LimitValues:
        """The user's own limits (all None when none were set)."""

    @abc.abstractmethod
    def limited_users(self) -> frozenset[str]:
        """The users whose own limits turn at least one limit on."""

    @abc.abstractmethod
    def update_limits(self, user_id: str, changes: Mapping[str, int | None]) -> LimitValues:
        """Set some of the user's overrides (keys from ``LIMIT_FIELDS``; None: the server's
        setting again); returns them all. Raises ``UnknownUser``."""

    @abc.abstractmethod
    def admit(self, user_id: str, decide: Decide[T]) -> T:
        """Read the user's counters with its overrides and leases, call ``decide`` and write
        what it returns, as if in one transaction that holds the counters (so that calls of
        every process sharing the database are decided one after the other). ``decide`` may
        be called again on fresher state when another call wrote first; only the answer of
        the decision that was written (or that wrote nothing) is returned."""

    @abc.abstractmethod
    def release(self, lease_id: str) -> None:
        """End a lease; a lease already reaped is ignored."""

    @abc.abstractmethod
    def leases(self) -> list[Lease]:
        """Every lease stored, of every user."""

    @abc.abstractmethod
    def reap(self, lease_ids: Sequence[str]) -> int:
        """Delete these leases (those already gone are ignored); returns how many were."""

    #: Where counts wait to be written in batches (None: each is written at once); set by
    #: the store for the one part it hands out.
    _batch: UsageBatch | None = None

    def count_usage(self, count: UsageCount, *, release: str | None = None) -> None:
        """Add one call's figures to its user's usage of its day, and end the lease
        ``release`` if given. A lease ends at once; a count alone is written within
        ``usage_batch.INTERVAL_S``, and before any read of usage in this process."""
        if release is None and self._batch is not None:
            self._batch.add(count)
        else:
            self.write_usage((count,), release=release)

    def flush_usage(self) -> None:
        """Write the counts waiting (every read of usage does first)."""
        if self._batch is not None:
            self._batch.flush()

    def close(self) -> None:
        """Write the counts waiting and stop writing in the background."""
        if self._batch is not None:
            self._batch.close()

    @abc.abstractmethod
    def write_usage(self, counts: Sequence[UsageCount], *, release: str | None = None) -> None:
        """Add these counts to their users' usage and end the lease ``release`` (if given;
        as ``release`` does), in one transaction."""

    @abc.abstractmethod
    def usage(self, user_id: str | None, *, now_ms: int, day: int, window_ms: int) -> list[Usage]:
        """Usage of one API user or of every one, by user id (a user never counted has zeros;
        an unknown user, no row). ``window_ms`` is the rate window for users without their
        own."""

    @abc.abstractmethod
    def error_counts(self, user_id: str, day: int) -> dict[int, int]:
        """The user's calls answered with an error on ``day``, by code (those counted with
        ``UsageCount.error``; limit refusals are in ``usage``)."""

    @abc.abstractmethod
    def service_calls(self, day: int) -> dict[str, int]:
        """Calls counted with ``UsageCount.service`` on ``day``, by client id (services that
        made none are absent)."""

    @abc.abstractmethod
    def reset_usage(self) -> None:
        """Forget every count, error count, reject and lease (overrides stay)."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A rule that makes matching calls misbehave (docs/testing.md). Exactly one of ``code``,
    ``drop`` and ``status`` may be set; ``delay_ms`` combines with any of them."""

    #: The operation it applies to (as the WSDL names it); None: every operation.
    operation: str | None = None
    user_id: str | None = None
    #: Answer with this Marketo fault code.
    code: int | None = None
    #: Close the connection without an answer: "before" the call runs, or "after" it ran.
    drop: str | None = None
    #: Answer with this HTTP status (and no SOAP body) instead of running the call.
    status: int | None = None
    delay_ms: int = 0
    #: The share of matching calls it fires on.
    probability: float = 1.0
    #: How many times it fires at most (None: no limit).
    times: int | None = None
    #: Makes the calls it fires on a function of the order of matching calls.
    seed: str = ""
    #: Set by the store.
    id: int = 0
    matched: int = 0
    fired: int = 0

    @property
    def outcome(self) -> bool:
        """Whether it decides the call's answer (rather than only delaying it)."""
        return self.code is not None or self.drop is not None or self.status is not None


#: Given the rules that match a call, each with the call's position among the calls that
#: rule matched (1, 2, ...), the ids of the rules that fire.
FaultChooser = Callable[[Sequence[tuple[FaultRule, int]]], Sequence[int]]


class FaultStore(abc.ABC):
    """Fault rules, shared by every process on the database."""

    @abc.abstractmethod
    def add(self, rules: Sequence[FaultRule], *, replace: bool = False) -> list[FaultRule]:
        """Store rules (after every existing one, or instead of them); returns them with ids."""

    @abc.abstractmethod
    def rules(self) -> list[FaultRule]:
        """Every rule in the order they apply."""

    @abc.abstractmethod
    def remove(self, rule_id: int | None = None) -> int:
        """Remove one rule, or every rule; returns how many were removed."""

    @abc.abstractmethod
    def fire(self, user_id: str, operation: str, choose: FaultChooser) -> list[FaultRule]:
        """In one transaction: count the call against every live rule that matches it, let
        ``choose`` pick, and record those rules as fired. Returns the fired rules in order;
        a rule whose ``times`` ran out meanwhile is left out."""


#: The fault_rules columns both backends select, in the order ``row_to_rule`` reads.
RULE_COLUMNS = (
    "id, operation, user_id, code, drop_when, status, delay_ms, probability, times, seed,"
    " matched, fired"
)


def row_to_rule(row: Sequence[Any]) -> FaultRule:
    return FaultRule(
        id=row[0],
        operation=row[1],
        user_id=row[2],
        code=row[3],
        drop=row[4],
        status=row[5],
        delay_ms=row[6],
        probability=row[7],
        times=row[8],
        seed=row[9],
        matched=row[10],
        fired=row[11],
    )
