"""``leadsync db``: the database schema."""

from __future__ import annotations

import click

from leadsync.cli import database_option, main
from leadsync.config import from_env
from leadsync.store import open_store


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@database_option
def upgrade(database_url: str | None) -> None:
    """Apply every migration the database lacks (leads are kept)."""
    url = database_url or from_env().database_url
    store = open_store(url, migrate=False, check=False, create=True)
    try:
        applied = store.migrate()
        version = store.schema_version()
    finally:
        store.close()
    if applied:
        click.echo(f"applied migrations {', '.join(map(str, applied))}; schema version {version}")
    else:
        click.echo(f"schema version {version}: up to date")


@db.command("version")
@database_option
def version(database_url: str | None) -> None:
    """Print the database's schema version."""
    url = database_url or from_env().database_url
    store = open_store(url, migrate=False, check=False)
    try:
        click.echo(str(store.schema_version()))
    finally:
        store.close()
