"""``leadsync bridge``: bridge mode's connectivity check and its journal (docs/bridge.md)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import store_for
from leadsync.cli.config_cmd import config_option
from leadsync.cli.serve_options import settings_from_flags
from leadsync.cli.setting_options import setting_option
from leadsync.clock import SYSTEM_CLOCK
from leadsync.errors import ConfigError, MarketoError
from leadsync.store.bridge import JournalEntry

_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@main.group()
def bridge() -> None:
    """Bridge mode: SOAP calls forwarded to a Marketo REST instance."""


@bridge.command("check")
@setting_option("upstream_url")
@setting_option("upstream_client_id")
@setting_option("upstream_client_secret")
@setting_option("upstream_ca_bundle")
@setting_option("upstream_insecure_skip_tls_verify")
@config_option
@database_option
def check(**flags: Any) -> None:
    """Verify the upstream's credentials and connectivity; print its field count and the
    daily quota left."""
    from leadsync.bridge.upstream import Upstream

    settings = settings_from_flags(flags)
    if not settings.upstream_url:
        raise ConfigError("no upstream: give --upstream URL (or LEADSYNC_UPSTREAM_URL)")
    # What went wrong is the one line below; the server's log line for it is not wanted here.
    logging.getLogger("leadsync.bridge").addHandler(logging.NullHandler())
    store = store_for(settings.database_url, create_schema=True)
    upstream: Upstream | None = None
    try:
        upstream = Upstream(store, settings, SYSTEM_CLOCK)
        try:
            described = upstream.call("GET", "/rest/v1/leads/describe.json")
            usage = upstream.call("GET", "/rest/v1/stats/usage.json")
        except MarketoError as error:
            raise click.ClickException(f"the upstream check failed: {error.message}") from None
        except Exception as error:
            raise click.ClickException(f"the upstream refused the check: {error}") from None
    finally:
        if upstream is not None:
            upstream.close()
        store.close()
    fields = described.get("result")
    days = usage.get("result")
    used = 0
    if isinstance(days, list) and days and isinstance(days[0], dict):
        used = int(days[0].get("total") or 0)
    quota = settings.upstream_daily_quota
    click.echo(f"upstream:    {settings.upstream_url}")
    click.echo(f"client id:   {settings.upstream_client_id}")
    click.echo("credentials: ok")
    click.echo(f"fields:      {len(fields) if isinstance(fields, list) else 0}")
    if quota:
        click.echo(f"daily quota: {max(quota - used, 0)} of {quota} calls left today")
    else:
        click.echo(f"daily quota: {used} calls used today (no quota set)")


@bridge.command("log")
@click.option(
    "--since",
    default=None,
    metavar="T",
    help="Only calls from T on: an ISO 8601 time (2026-12-01T09:00Z) or an age (30m, 2h, 7d).",
)
@click.option("--failed", is_flag=True, help="Only calls answered with a fault or a FAILED record.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@database_option
def log(since: str | None, failed: bool, as_json: bool, database_url: str | None) -> None:
    """Show the journal of bridged calls, oldest first."""
    since_ms = _since_ms(since) if since is not None else None
    store = store_for(database_url)
    try:
        entries = store.bridge().journal(since_ms=since_ms, failed_only=failed, limit=1_000_000)
    finally:
        store.close()
    for entry in entries:
        click.echo(_json_line(entry) if as_json else _text_line(entry))


def _since_ms(text: str) -> int:
    now = datetime.now(UTC)
    relative = _RELATIVE.match(text.strip())
    if relative:
        at = now - timedelta(seconds=int(relative[1]) * _UNITS[relative[2]])
    else:
        try:
            at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(
                f"{text!r} is no time: write 2026-12-01T09:00Z or an age such as 2h",
                param_hint="--since",
            ) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


def _at(entry: JournalEntry) -> str:
    return datetime.fromtimestamp(entry.at_ms / 1000, UTC).isoformat(timespec="milliseconds")


def _json_line(entry: JournalEntry) -> str:
    data = asdict(entry)
    data["at"] = _at(entry)
    data["request_ids"] = [r for r in entry.request_ids.split(",") if r]
    data["upstream_codes"] = [c for c in entry.upstream_codes.split(",") if c]
    return json.dumps(data, separators=(",", ":"))


def _text_line(entry: JournalEntry) -> str:
    outcome = f"fault={entry.fault_code}" if entry.fault_code is not None else "ok"
    parts = [
        _at(entry),
        entry.user_id,
        entry.operation,
        outcome,
        f"records={entry.records}",
        f"created={entry.created}",
        f"updated={entry.updated}",
        f"failed={entry.failed}",
        f"ms={entry.duration_ms:.0f}",
    ]
    if entry.upstream_codes:
        parts.append(f"codes={entry.upstream_codes}")
    if entry.error_id:
        parts.append(f"error_id={entry.error_id}")
    if entry.request_ids:
        parts.append(f"requests={entry.request_ids}")
    return " ".join(parts)
