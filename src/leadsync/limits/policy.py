"""Which limits apply: the server's settings, Marketo's published values, a user's own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadsync.config import Settings
from leadsync.errors import ConfigError
from leadsync.store.control import MAX_RATE_CALLS, LimitValues

#: Marketo's published limits (docs/limits.md): 10,000 calls a day, 100 per 20 s, 10 at once.
MARKETO = LimitValues(daily_quota=10_000, rate_calls=100, rate_window_ms=20_000, concurrency=10)
DEFAULT_WINDOW_MS = 20_000

_RATE = re.compile(r"^\s*(\d+)\s*(?:/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?)?\s*$", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_OFF = frozenset({"0", "off", "none", "no"})


def parse_rate(text: str) -> tuple[int, int | None]:
    """``"100/20s"`` -> (100, 20000). A bare count keeps the window unset; "off" is (0, None).
    Units: ms, s (the default), m, h."""
    if text.strip().lower() in _OFF:
        return 0, None
    match = _RATE.match(text)
    if not match:
        raise ConfigError(f"bad rate {text!r}: write CALLS/WINDOW, for example 100/20s")
    calls = int(match[1])
    if calls > MAX_RATE_CALLS:
        raise ConfigError(
            f"bad rate {text!r}: at most {MAX_RATE_CALLS} calls per window; use a shorter window"
        )
    if match[2] is None:
        return calls, None
    window = round(float(match[2]) * _UNIT_MS[(match[3] or "s").lower()])
    if window <= 0:
        raise ConfigError(f"bad rate {text!r}: the window must be longer than 0")
    return calls, window


def format_rate(calls: int | None, window_ms: int | None) -> str:
    if not calls:
        return "off"
    window = window_ms or DEFAULT_WINDOW_MS
    if window % 1000:
        return f"{calls}/{window}ms"
    return f"{calls}/{window // 1000}s"


def server_limits(settings: Settings) -> LimitValues:
    """The server's limits, fully resolved (0: no limit). A value set explicitly wins over
    Marketo's when ``marketo_limits`` is on."""
    base = MARKETO if settings.marketo_limits else LimitValues(0, 0, DEFAULT_WINDOW_MS, 0)
    calls, window = parse_rate(settings.rate_limit) if settings.rate_limit else (0, None)
    for name, value in (
        ("daily_quota", settings.daily_quota),
        ("concurrency_limit", settings.concurrency_limit),
    ):
        if value < 0:
            raise ConfigError(f"{name} cannot be negative")
    if settings.lease_seconds <= 0:
        raise ConfigError("lease_seconds must be at least 1")
    return LimitValues(
        daily_quota=settings.daily_quota or base.daily_quota,
        rate_calls=calls or base.rate_calls,
        rate_window_ms=window or base.rate_window_ms,
        concurrency=settings.concurrency_limit or base.concurrency,
    )


def quota_zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.quota_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {settings.quota_timezone!r} for the daily quota"
            " (the system has no time zone database? pip install tzdata)"
        ) from None


@dataclass(frozen=True, slots=True)
class DayClock:
    """Turns instants into quota days: the calendar date in the quota's time zone."""

    zone: ZoneInfo

    def day(self, epoch_s: float) -> int:
        local = datetime.fromtimestamp(epoch_s, self.zone)
        return local.year * 10_000 + local.month * 100 + local.day
