"""Usage endpoints: ``stats/usage``, ``stats/errors`` and their ``last7days`` forms."""

from __future__ import annotations

from leadsync.limits.policy import DayClock, quota_zone
from leadsync.operations import rest_stats
from leadsync.rest.limits import REST_SUBJECT
from leadsync.rest.routes import Reply, RestCall, endpoint


def _days(call: RestCall, count: int) -> list[rest_stats.DayStats]:
    days = DayClock(quota_zone(call.settings))
    return rest_stats.usage(call.store, REST_SUBJECT, days, call.clock, count)


def _usage(call: RestCall, count: int) -> Reply:
    return {
        "result": [
            {
                "date": day.date,
                "total": day.calls,
                "users": [{"userId": user, "count": n} for user, n in day.users.items()],
            }
            for day in _days(call, count)
        ]
    }


def _by_code(item: tuple[str, int]) -> int:
    return int(item[0])


def _errors(call: RestCall, count: int) -> Reply:
    return {
        "result": [
            {
                "date": day.date,
                "total": sum(day.errors.values()),
                "errors": [
                    {"errorCode": code, "count": n}
                    for code, n in sorted(day.errors.items(), key=_by_code)
                ],
            }
            for day in _days(call, count)
        ]
    }


@endpoint("GET", "/rest/v1/stats/usage.json")
def daily_usage(call: RestCall) -> Reply:
    return _usage(call, 1)


@endpoint("GET", "/rest/v1/stats/usage/last7days.json")
def weekly_usage(call: RestCall) -> Reply:
    return _usage(call, 7)


@endpoint("GET", "/rest/v1/stats/errors.json")
def daily_errors(call: RestCall) -> Reply:
    return _errors(call, 1)


@endpoint("GET", "/rest/v1/stats/errors/last7days.json")
def weekly_errors(call: RestCall) -> Reply:
    return _errors(call, 7)
