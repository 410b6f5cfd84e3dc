"""What ``serve`` checks and installs before it answers its first call."""

from __future__ import annotations

from collections.abc import Collection

from leadsync.config import Settings
from leadsync.errors import ConfigError
from leadsync.limits.faults import RuleError, parse_rules, rule_text
from leadsync.limits.guard import fault_injection_enabled
from leadsync.limits.policy import format_rate, quota_zone, server_limits
from leadsync.store.base import Store


def prepare(store: Store, settings: Settings, operations: Collection[str]) -> list[str]:
    """Refuse bad limit or fault settings, then install the start-up fault rules; returns
    lines that tell the operator what is in force.

    The start-up rules replace every rule in the database: rules live for one run of the
    server, and several servers sharing a database must be started with the same rules.
    """
    limits = server_limits(settings)
    zone = quota_zone(settings)
    try:
        rules = parse_rules(settings.inject, seed=settings.seed, operations=operations)
    except RuleError as exc:
        raise ConfigError(str(exc)) from None
    notes = []
    if limits.any:
        quota = (
            f"{limits.daily_quota} calls a day (until midnight {zone.key})"
            if limits.daily_quota
            else "no daily quota"
        )
        rate = format_rate(limits.rate_calls, limits.rate_window_ms)
        notes.append(
            f"Limits per API user: {quota}, rate {rate}, concurrency {limits.concurrency or 'off'}"
        )
    if fault_injection_enabled(settings):
        installed = store.faults().add(rules, replace=True)
        notes.extend(f"Fault rule {rule.id}: {rule_text(rule)}" for rule in installed)
    if settings.admin_token:
        notes.append("Admin API: /admin (Authorization: Bearer <admin token>)")
    return notes
