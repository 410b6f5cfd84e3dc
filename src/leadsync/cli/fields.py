"""``leadsync fields``: custom lead fields."""

from __future__ import annotations

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import store_for
from leadsync.model import FieldDef, FieldType
from leadsync.operations.fields import FieldCatalogue, validate_custom_name


@main.group()
def fields() -> None:
    """Manage lead fields."""


@fields.command("add")
@click.argument("name")
@click.option(
    "--type",
    "field_type",
    required=True,
    type=click.Choice([t.value for t in FieldType]),
    help="The field's data type.",
)
@database_option
def add_field(name: str, field_type: str, database_url: str | None) -> None:
    """Add a custom lead field."""
    problem = validate_custom_name(name)
    if problem:
        raise click.ClickException(problem)
    store = store_for(database_url)
    try:
        store.add_custom_field(FieldDef(name, FieldType(field_type), custom=True))
    finally:
        store.close()
    click.echo(f"added field {name} ({field_type})")


@fields.command("list")
@click.option("--custom-only", is_flag=True, help="Only the custom fields.")
@database_option
def list_fields(custom_only: bool, database_url: str | None) -> None:
    """List lead fields with their types."""
    store = store_for(database_url)
    try:
        custom = store.custom_fields()
    finally:
        store.close()
    shown = custom if custom_only else FieldCatalogue(custom).all()
    for fdef in shown:
        click.echo(f"{fdef.name}\t{fdef.type.value}\t{'custom' if fdef.custom else 'standard'}")
