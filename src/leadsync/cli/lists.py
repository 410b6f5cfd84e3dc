"""``leadsync lists``: static lists, which listOperation and StaticListSelector name."""

from __future__ import annotations

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import store_for
from leadsync.operations.lists import create_list


@main.group("lists")
def lists() -> None:
    """Manage static lists."""


@lists.command("add")
@click.argument("name")
@database_option
def add_list(name: str, database_url: str | None) -> None:
    """Create an empty static list (names are unique without regard to case)."""
    store = store_for(database_url)
    try:
        created = create_list(store, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"added list {created.name} (id {created.id})")


@lists.command("list")
@database_option
def list_lists(database_url: str | None) -> None:
    """List static lists: id, name and member count, tab-separated."""
    store = store_for(database_url)
    try:
        found = store.static_lists()
    finally:
        store.close()
    for static_list in found:
        click.echo(f"{static_list.id}\t{static_list.name}\t{static_list.members}")
