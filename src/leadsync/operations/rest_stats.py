"""REST usage statistics (docs/rest.md): calls and errors per day, from the counters the call
limits keep (``store.control``), for the subject REST calls are counted under: limit
refusals from the usage counts, every other error code answered from the error counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from leadsync.clock import Clock
from leadsync.limits.policy import DayClock
from leadsync.operations.identity import scope_of
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
    #: Calls by the user a service stands for (its token's ``scope``), in name order.
    users: dict[str, int] = field(default_factory=dict)


def usage(store: Store, subject: str, days: DayClock, clock: Clock, count: int) -> list[DayStats]:
    """Today and the ``count - 1`` days before it, newest first."""
    now = clock.now()
    limits = store.limits()
    services = store.services().list_services()
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
        by_service = limits.service_calls(day)
        users: dict[str, int] = {}
        for service in services:
            if by_service.get(service.client_id):
                # Two services may share a name, and so a scope.
                scope = scope_of(service)
                users[scope] = users.get(scope, 0) + by_service[service.client_id]
        date = f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"
        found.append(DayStats(date, calls, errors, users))
    return found
