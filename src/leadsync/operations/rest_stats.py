"""REST usage statistics (docs/rest.md): calls and errors per day, from the counters the call
limits keep (``store.control``), for the subject REST calls are counted under: limit
refusals from the usage counts, every other error code answered from the error counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from leadsync.clock import Clock
from leadsync.limits.policy import DayClock
from leadsync.store.base import Store
from leadsync.store.control import CONCURRENCY_CODE, QUOTA_CODE, RATE_CODE

#: A limit's refusal as the REST API reports it.
REST_REJECT_CODES = {QUOTA_CODE: "607", RATE_CODE: "606", CONCURRENCY_CODE: "615"}


@dataclass(frozen=True, slots=True)
class DayStats:
    date: str
    calls: int
    #: REST code -> how many calls were answered with it that day.
    errors: dict[str, int]


def usage(store: Store, subject: str, days: DayClock, clock: Clock, count: int) -> list[DayStats]:
    """Today and the ``count - 1`` days before it, newest first."""
    now = clock.now()
    limits = store.limits()
    found = []
    for back in range(count):
        day = days.day((now - timedelta(days=back)).timestamp())
        rows = limits.usage(subject, now_ms=int(now.timestamp() * 1000), day=day, window_ms=0)
        calls = rows[0].day_calls if rows else 0
        rejects = rows[0].rejects if rows else {}
        errors = {
            REST_REJECT_CODES[code]: n
            for code, n in rejects.items()
            if n and code in REST_REJECT_CODES
        }
        for code, n in limits.error_counts(subject, day).items():
            errors[str(code)] = errors.get(str(code), 0) + n
        found.append(
            DayStats(f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}", calls, errors)
        )
    return found
