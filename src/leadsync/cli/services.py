"""``leadsync services``: REST API services (Marketo's custom services: client id and secret)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import store_for
from leadsync.operations.identity import create_service


@main.group()
def services() -> None:
    """Manage REST API services (client id and client secret)."""


@services.command("add")
@click.argument("name")
@click.option("--client-id", default=None, help="The client id; generated when omitted.")
@click.option("--client-secret", default=None, help="The client secret; generated when omitted.")
@database_option
def add_service(
    name: str, client_id: str | None, client_secret: str | None, database_url: str | None
) -> None:
    """Create a REST API service and print its client id and secret."""
    if not name.strip():
        raise click.ClickException("a service name cannot be empty")
    for flag, value in (("--client-id", client_id), ("--client-secret", client_secret)):
        if value is not None and (not value.strip() or value != value.strip()):
            raise click.ClickException(f"{flag} cannot be empty or start or end with spaces")
    # Like ``users add``, it may be the first command on a new database.
    store = store_for(database_url, create_schema=True)
    try:
        service = create_service(store, name.strip(), datetime.now(UTC), client_id, client_secret)
    finally:
        store.close()
    click.echo(f"name:          {service.name}")
    click.echo(f"client id:     {service.client_id}")
    click.echo(f"client secret: {service.client_secret}")


@services.command("list")
@database_option
def list_services(database_url: str | None) -> None:
    """List REST API services (secrets are not shown)."""
    store = store_for(database_url)
    try:
        found = store.services().list_services()
    finally:
        store.close()
    for service in found:
        click.echo(f"{service.client_id}\t{service.name}\t{service.created_at:%Y-%m-%dT%H:%M:%SZ}")


@services.command("remove")
@click.argument("client_id")
@database_option
def remove_service(client_id: str, database_url: str | None) -> None:
    """Remove a REST API service; its tokens stop working (601) within a second."""
    store = store_for(database_url)
    try:
        removed = store.services().remove_service(client_id)
    finally:
        store.close()
    if not removed:
        raise click.ClickException(f"no REST API service with client id {client_id!r}")
    click.echo(f"removed {client_id}")
