"""REST call limits and fault rules on the limits machinery SOAP uses (docs/rest.md).

Marketo limits REST calls per instance, every service together: 50,000 a day, 100 per 20 s,
10 at once. leadsync counts them, in the database like SOAP's, under one reserved subject,
``@rest``; the guard's refusals and fault codes become REST's codes and wording.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, replace

from leadsync.config import Settings
from leadsync.errors import (
    ConcurrencyLimitExceeded,
    ConcurrentAccessLimit,
    DailyQuotaReached,
    MarketoError,
    RateLimitExceeded,
    RequestLimitExceeded,
    RestError,
    RestRateLimit,
    RestSystemError,
    rest_error_for_code,
)
from leadsync.limits.policy import DayClock, quota_zone, server_limits
from leadsync.operations.rest_stats import REST_REJECT_CODES
from leadsync.store.base import AlreadyExists, Store
from leadsync.store.control import LIMIT_CODES, LimitValues, Usage

#: The subject REST calls are counted under (an API user no one can sign as).
REST_SUBJECT = "@rest"
#: Marketo's REST limits.
MARKETO_REST = LimitValues(
    daily_quota=50_000, rate_calls=100, rate_window_ms=20_000, concurrency=10
)


def guard_settings(settings: Settings) -> Settings:
    """``settings`` with the REST limits in the places the guard reads its limits from."""
    marketo = settings.marketo_limits
    rate = settings.rest_rate_limit or (
        f"{MARKETO_REST.rate_calls}/{(MARKETO_REST.rate_window_ms or 0) // 1000}s"
        if marketo
        else ""
    )
    return replace(
        settings,
        daily_quota=settings.rest_daily_quota or (MARKETO_REST.daily_quota or 0 if marketo else 0),
        rate_limit=rate,
        concurrency_limit=settings.rest_concurrency_limit
        or (MARKETO_REST.concurrency or 0 if marketo else 0),
        marketo_limits=False,
    )


def rest_limits(settings: Settings) -> LimitValues:
    return server_limits(guard_settings(settings))


def limits_of(settings: Settings, user_id: str) -> LimitValues:
    """The server's limits that apply to ``user_id``: REST's for the REST subject, the SOAP
    limits for every API user."""
    return rest_limits(settings) if user_id == REST_SUBJECT else server_limits(settings)


def ensure_subject(store: Store) -> None:
    """The limits' tables count calls per API user: the REST subject must be one."""
    if store.get_user(REST_SUBJECT) is None:
        # Another worker may make it first.
        with contextlib.suppress(AlreadyExists):
            store.add_user(REST_SUBJECT, secrets.token_hex(32))


def refusal(error: MarketoError, limits: LimitValues) -> RestError:
    """The REST answer to a limit's refusal, in Marketo's wording."""
    if isinstance(error, RateLimitExceeded):
        window = (limits.rate_window_ms or 0) // 1000
        return RestRateLimit(
            f"Max rate limit '{limits.rate_calls}' exceeded with in '{window}' secs"
        )
    if isinstance(error, RequestLimitExceeded):
        return DailyQuotaReached()
    if isinstance(error, ConcurrencyLimitExceeded):
        return ConcurrentAccessLimit(f"Concurrent access limit '{limits.concurrency}' reached")
    return RestSystemError(f"System error: {error.message}")


def fault_error(code: int) -> Exception:
    """The error a fault rule's code raises on a REST call: REST's own codes as they are;
    a SOAP code is no REST answer, so it is a system error naming it."""
    text = str(code)
    if len(text) <= 4:
        return rest_error_for_code(text)
    return RestSystemError(f"System error (fault rule code {code} is a SOAP code)")


@dataclass(frozen=True, slots=True)
class UsageView:
    """One subject's usage as people are shown it: calls in the subject's own rate window,
    rejects under the codes its API answers, and the limits that apply to it."""

    usage: Usage
    limits: LimitValues
    #: The codes a limit refusal is answered with, in order (SOAP's, or REST's for @rest).
    codes: tuple[int, ...]


def usage_views(
    store: Store, settings: Settings, user_id: str | None, now: float
) -> list[UsageView]:
    """The usage of one subject or of every one (by user id), for the CLI, the console and
    the admin API alike: SOAP users against the server's limits and codes, ``@rest`` against
    REST's."""
    days = DayClock(quota_zone(settings))
    soap, rest = limits_of(settings, ""), limits_of(settings, REST_SUBJECT)
    counts = store.limits()
    day, now_ms = days.day(now), int(now * 1000)
    found = counts.usage(user_id, now_ms=now_ms, day=day, window_ms=soap.rate_window_ms or 0)
    views = []
    for usage in found:
        if usage.user_id != REST_SUBJECT:
            views.append(UsageView(usage, usage.overrides.over(soap), LIMIT_CODES))
            continue
        # Counted again in REST's own rate window, its rejects in REST's codes.
        [usage] = counts.usage(
            REST_SUBJECT, now_ms=now_ms, day=day, window_ms=rest.rate_window_ms or 0
        ) or [usage]
        codes = {code: int(answered) for code, answered in REST_REJECT_CODES.items()}
        rejects = {codes.get(code, code): n for code, n in usage.rejects.items()}
        views.append(
            UsageView(
                replace(usage, rejects=rejects),
                usage.overrides.over(rest),
                tuple(codes[code] for code in LIMIT_CODES),
            )
        )
    return views
