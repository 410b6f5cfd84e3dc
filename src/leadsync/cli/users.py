"""``leadsync users``: the API users that sign requests."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import new_encryption_key, store_for
from leadsync.cli.user_limits import apply_limits, limit_changes, limit_options, update_user, usage
from leadsync.model import ApiUser


@main.group()
def users() -> None:
    """Manage API users (mktowsUserId and encryption key)."""


@users.command("add")
@click.argument("user_id")
@click.option("--encryption-key", default=None, help="The shared secret; generated when omitted.")
@limit_options
@database_option
def add_user(
    user_id: str,
    encryption_key: str | None,
    daily_quota: Any,
    rate: Any,
    concurrency: Any,
    database_url: str | None,
) -> None:
    """Create an API user and print its encryption key."""
    if not user_id.strip():
        raise click.ClickException("a user id cannot be empty")
    key = encryption_key or new_encryption_key()
    store = store_for(database_url, create_schema=True)
    try:
        store.add_user(user_id, key)
        click.echo(f"user id:        {user_id}")
        click.echo(f"encryption key: {key}")
        changes = limit_changes(daily_quota, rate, concurrency)
        if changes:
            apply_limits(store, user_id, changes)
    finally:
        store.close()


@users.command("list")
@database_option
def list_users(database_url: str | None) -> None:
    """List API users (keys are not shown)."""
    store = store_for(database_url)
    try:
        found = store.list_users()
    finally:
        store.close()
    for user in found:
        click.echo(f"{user.user_id}\t{user.created_at:%Y-%m-%dT%H:%M:%SZ}")


@users.command("remove")
@click.argument("user_id")
@database_option
def remove_user(user_id: str, database_url: str | None) -> None:
    """Remove an API user; its calls fail with 20014 from then on."""
    store = store_for(database_url)
    try:
        removed = store.remove_user(user_id)
    finally:
        store.close()
    if not removed:
        raise click.ClickException(f"no API user {user_id!r}")
    click.echo(f"removed {user_id}")


@users.command("show")
@click.argument("user_id")
@database_option
def show_user(user_id: str, database_url: str | None) -> None:
    """Print an API user's encryption key (asks first when the output is a terminal)."""
    store = store_for(database_url)
    try:
        user = store.get_user(user_id)
    finally:
        store.close()
    if user is None:
        raise click.ClickException(f"no API user {user_id!r}")
    # A key on a screen can be read over a shoulder or end up in a shared recording.
    if sys.stdout.isatty() and not click.confirm(
        f"Show the encryption key of {user_id} on this terminal?"
    ):
        click.echo("nothing was shown", err=True)
        raise SystemExit(1)
    _print_key(user, now=datetime.now(UTC))


@users.command("rotate-key")
@click.argument("user_id")
@click.option("--encryption-key", default=None, help="The new key; generated when omitted.")
@click.option(
    "--grace",
    type=click.IntRange(0),
    default=60,
    show_default=True,
    metavar="MINUTES",
    help="Minutes the old key keeps working, to switch integrations without downtime.",
)
@database_option
def rotate_key(
    user_id: str, encryption_key: str | None, grace: int, database_url: str | None
) -> None:
    """Give an API user a new encryption key and print it."""
    if encryption_key is not None and not encryption_key.strip():
        raise click.ClickException("an encryption key cannot be empty")
    key = encryption_key or new_encryption_key()
    now = datetime.now(UTC)
    until = now + timedelta(minutes=grace) if grace else None
    store = store_for(database_url)
    try:
        user = store.rotate_key(user_id, key, until)
    finally:
        store.close()
    if user is None:
        raise click.ClickException(f"no API user {user_id!r}")
    _print_key(user, now=now)
    if until is None:
        click.echo("old key:        refused from now on")


def _print_key(user: ApiUser, *, now: datetime) -> None:
    click.echo(f"user id:        {user.user_id}")
    click.echo(f"encryption key: {user.encryption_key}")
    if user.grace_key(now) is not None and user.previous_key_until is not None:
        click.echo(f"old key:        accepted until {user.previous_key_until:%Y-%m-%dT%H:%M:%SZ}")


users.add_command(update_user)
users.add_command(usage)
