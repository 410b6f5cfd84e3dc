"""Per-user limits on the command line: ``users add/update --daily-quota/--rate/--concurrency``
and ``users usage`` (docs/limits.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from leadsync.cli import database_option
from leadsync.cli.common import store_for
from leadsync.cli.config_cmd import config_option, load_settings
from leadsync.errors import ConfigError
from leadsync.limits.policy import format_rate, parse_rate, quota_zone
from leadsync.rest.limits import limits_of, usage_views
from leadsync.store.base import Store
from leadsync.store.control import LIMIT_CODES, LimitValues, UnknownUser, Usage

F = TypeVar("F", bound=Callable[..., Any])
#: A limit option's value that puts the server's setting back.
DEFAULT = "default"


def _limit(ctx: click.Context, param: click.Parameter, value: str | None) -> int | str | None:
    if value is None:
        return None
    text = value.strip().lower()
    if text == DEFAULT:
        return DEFAULT
    if text in ("off", "none"):
        return 0
    try:
        number = int(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a whole number, 'off' or 'default'") from None
    if number < 0:
        raise click.BadParameter("a limit cannot be negative")
    return number


def _rate(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int | None] | str | None:
    if value is None:
        return None
    if value.strip().lower() == DEFAULT:
        return DEFAULT
    try:
        return parse_rate(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


def limit_options(func: F) -> F:
    """The per-user limit options shared by ``users add`` and ``users update``."""
    func = click.option(
        "--concurrency",
        callback=_limit,
        metavar="N|off|default",
        default=None,
        help="Concurrent calls this user may make (20024 beyond).",
    )(func)
    func = click.option(
        "--rate",
        callback=_rate,
        metavar="N/WINDOW|off|default",
        default=None,
        help="Calls per window, for example 100/20s (20023 beyond).",
    )(func)
    func = click.option(
        "--daily-quota",
        callback=_limit,
        metavar="N|off|default",
        default=None,
        help="Calls a day, reset at midnight US Central (20015 beyond).",
    )(func)
    return func


def limit_changes(daily_quota: Any, rate: Any, concurrency: Any) -> dict[str, int | None]:
    """The changes the options ask for: ``default`` clears a limit back to the server's."""
    changes: dict[str, int | None] = {}
    if daily_quota is not None:
        changes["daily_quota"] = None if daily_quota == DEFAULT else daily_quota
    if concurrency is not None:
        changes["concurrency"] = None if concurrency == DEFAULT else concurrency
    if rate is not None:
        calls, window = (None, None) if rate == DEFAULT else rate
        changes["rate_calls"] = calls
        changes["rate_window_ms"] = window
    return changes


def apply_limits(store: Store, user_id: str, changes: dict[str, int | None]) -> None:
    try:
        own = store.limits().update_limits(user_id, changes)
    except UnknownUser:
        raise click.ClickException(f"no API user {user_id!r}") from None
    click.echo(f"daily quota:    {_own(own.daily_quota)}")
    rate = "server's" if own.rate_calls is None else format_rate(own.rate_calls, own.rate_window_ms)
    click.echo(f"rate:           {rate}")
    click.echo(f"concurrency:    {_own(own.concurrency)}")


def _own(value: int | None) -> str:
    if value is None:
        return "server's"
    return "off" if value == 0 else str(value)


@click.command("update")
@click.argument("user_id")
@limit_options
@database_option
def update_user(
    user_id: str, daily_quota: Any, rate: Any, concurrency: Any, database_url: str | None
) -> None:
    """Change an API user's limits ('default': the server's setting again, 'off': none)."""
    changes = limit_changes(daily_quota, rate, concurrency)
    if not changes:
        raise click.UsageError("nothing to change: give --daily-quota, --rate or --concurrency")
    store = store_for(database_url)
    try:
        click.echo(f"user id:        {user_id}")
        apply_limits(store, user_id, changes)
    finally:
        store.close()


@click.command("usage")
@click.argument("user_id", required=False)
@database_option
@config_option
def usage(user_id: str | None, database_url: str | None, config_path: str | None) -> None:
    """Calls and records today, calls in the current rate window, calls in flight and
    rejects by code, with the limits that apply. Counted whether or not limits are on.

    The server's limits are read from the same settings ``serve`` reads (--config and
    LEADSYNC_* variables); give the same ones to see the limits that apply.
    """
    settings = load_settings(config_path)
    zone = quota_zone(settings).key
    store = store_for(database_url or settings.database_url)
    try:
        if user_id is not None and store.get_user(user_id) is None:
            raise click.ClickException(f"no API user {user_id!r}")
        views = {
            view.usage.user_id: view for view in usage_views(store, settings, user_id, time.time())
        }
        names = [user_id] if user_id is not None else [u.user_id for u in store.list_users()]
    finally:
        store.close()
    for index, name in enumerate(names):
        if index:
            click.echo()
        view = views.get(name)
        if view is None:  # a user the store has no usage row for yet
            defaults = limits_of(settings, name)
            _print_usage(Usage(name, LimitValues(), 0, 0, {}, 0, 0), defaults, zone, LIMIT_CODES)
        else:
            _print_usage(view.usage, view.limits, zone, view.codes)


def _print_usage(
    row: Usage, limits: LimitValues, zone: str, codes: tuple[int, ...] = LIMIT_CODES
) -> None:
    def of(limit: int | None) -> str:
        return f" of {limit}" if limit else " (no limit)"

    rate = format_rate(limits.rate_calls, limits.rate_window_ms)
    click.echo(row.user_id)
    today = f"{row.day_calls}{of(limits.daily_quota)}"
    click.echo(f"  calls today:      {today}  (the day ends at midnight {zone})")
    click.echo(f"  records today:    {row.records}")
    window = f" ({rate})" if limits.rate_calls else " (no limit)"
    click.echo(f"  calls in window:  {row.window_calls}{window}")
    click.echo(f"  calls in flight:  {row.in_flight}{of(limits.concurrency)}")
    rejects = "  ".join(
        f"{code}: {n}" for code, n in (row.rejects or dict.fromkeys(codes, 0)).items()
    )
    click.echo(f"  rejects today:    {rejects}")
