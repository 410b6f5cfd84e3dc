"""``leadsync console``: who may sign in to the web console."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import store_for
from leadsync.console.passwords import hash_password, password_problem


@main.group()
def console() -> None:
    """Manage the web console's users (the console is off while there are none)."""


@console.command("add-user")
@click.argument("name")
@click.password_option(
    help="The password; asked for (twice) when omitted, which keeps it out of ps and shell history."
)
@database_option
def add_user(name: str, password: str, database_url: str | None) -> None:
    """Create a console user; asks for the password."""
    if not name.strip() or len(name) > 100:
        raise click.ClickException("a console user name needs 1 to 100 characters")
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    store = store_for(database_url, create_schema=True)
    try:
        store.console().add_user(name, hash_password(password), int(time.time() * 1000))
    finally:
        store.close()
    click.echo(f"console user {name} created; sign in at /console")


@console.command("list-users")
@database_option
def list_users(database_url: str | None) -> None:
    """List console users (passwords are never shown)."""
    store = store_for(database_url)
    try:
        found = store.console().users()
    finally:
        store.close()
    for user in found:
        created = datetime.fromtimestamp(user.created_ms / 1000, UTC)
        click.echo(f"{user.name}\t{created:%Y-%m-%dT%H:%M:%SZ}")


@console.command("remove-user")
@click.argument("name")
@database_option
def remove_user(name: str, database_url: str | None) -> None:
    """Remove a console user; their sessions end at their next request."""
    store = store_for(database_url)
    try:
        removed = store.console().remove_user(name)
    finally:
        store.close()
    if not removed:
        raise click.ClickException(f"no console user {name!r}")
    click.echo(f"console user {name} removed")
