"""The Bridge page (bridge mode only, docs/bridge.md): the upstream, its token's state, its
call budget's use, and the journal ``leadsync bridge log`` reads. Never the client secret or
the token itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from leadsync.bridge.budget import UPSTREAM_SUBJECT, budget_limits
from leadsync.bridge.upstream import token_key
from leadsync.config import Settings
from leadsync.console.web import Page, PageHandler, Rendered
from leadsync.limits.policy import DayClock, quota_zone
from leadsync.store.base import Store
from leadsync.store.bridge import JournalEntry

#: Journal entries the page shows, newest first.
SHOWN = 100


class BridgePage:
    def __init__(
        self, store: Store, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.limits = budget_limits(settings)
        self.days = DayClock(quota_zone(settings))

    def table(self) -> dict[str, tuple[PageHandler, list[str]]]:
        return {"/bridge": (self.bridge, ["GET"])}

    def bridge(self, page: Page) -> Rendered:
        if not self.settings.upstream_url:
            return Rendered(
                "missing.html",
                {"title": "Bridge", "what": "bridge: this server is not in bridge mode"},
                404,
            )
        now_ms = int(self.clock() * 1000)
        failed_only = page.query.get("failed", "") not in ("", "0")
        entries = self._recent(failed_only)
        return Rendered(
            "bridge.html",
            {
                "title": "Bridge",
                "upstream": self.settings.upstream_url,
                "client_id": self.settings.upstream_client_id,
                "token": self._token(now_ms),
                "budget": self._budget(now_ms),
                "entries": entries,
                "failed_only": failed_only,
                "shown": SHOWN,
                "when": _when,
            },
        )

    def _token(self, now_ms: int) -> dict[str, Any]:
        held = self.store.bridge().token(token_key(self.settings))
        if held is None:
            return {"state": "none yet: taken at the first bridged call", "expires": ""}
        left_s = (held.expires_ms - now_ms) // 1000
        state = f"valid for {left_s // 60} min {left_s % 60} s" if left_s > 0 else "expired"
        return {"state": state, "expires": _when(held.expires_ms)}

    def _budget(self, now_ms: int) -> dict[str, Any]:
        window_ms = self.limits.rate_window_ms or 0
        found = self.store.limits().usage(
            UPSTREAM_SUBJECT, now_ms=now_ms, day=self.days.day(now_ms / 1000), window_ms=window_ms
        )
        usage = found[0] if found else None
        return {
            "day_calls": usage.day_calls if usage else 0,
            "window_calls": usage.window_calls if usage else 0,
            "in_flight": usage.in_flight if usage else 0,
            "daily_quota": self.limits.daily_quota,
            "rate_calls": self.limits.rate_calls,
            "rate": self.settings.upstream_rate_limit,
            "concurrency": self.limits.concurrency,
        }

    def _recent(self, failed_only: bool) -> list[JournalEntry]:
        return self.store.bridge().journal(failed_only=failed_only, limit=SHOWN, newest_first=True)


def _when(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
