"""REST call limits and fault rules on the limits machinery SOAP uses (docs/rest.md).

Marketo limits REST calls per instance, every service together: 50,000 a day, 100 per 20 s,
10 at once. leadsync counts them, in the database like SOAP's, under one reserved subject,
``@rest``; the guard's refusals and fault codes become REST's codes and wording.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import replace

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
from leadsync.limits.policy import server_limits
from leadsync.store.base import AlreadyExists, Store
from leadsync.store.control import LimitValues

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
