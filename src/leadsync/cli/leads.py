"""``leadsync leads``: look at the lead data without a server (count, show, export, import)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import click
import orjson

from leadsync.cli import database_option, main
from leadsync.cli.common import configured, store_for
from leadsync.cli.config_cmd import mask
from leadsync.cli.push import (
    Reporter,
    batch_size_option,
    columns_of,
    csv_format_options,
    dedup_option,
    map_option,
    open_csv,
    output_options,
    push_options,
    run_push,
)
from leadsync.client.push import RowPreparer
from leadsync.client.validate import FieldValidator
from leadsync.errors import MarketoError
from leadsync.model import Lead
from leadsync.operations import lead_views
from leadsync.operations.fields import FieldCatalogue, catalogue_of, parse_datetime
from leadsync.operations.lead_views import KEY_COLUMNS, LeadDetail
from leadsync.soap.local import LocalSync


@main.group()
def leads() -> None:
    """Look at the leads in the database."""


@leads.command("count")
@database_option
def count_leads(database_url: str | None) -> None:
    """Print how many leads there are."""
    store = store_for(database_url)
    try:
        click.echo(str(lead_views.count(store)))
    finally:
        store.close()


@leads.command("show")
@click.argument("lead", metavar="ID|EMAIL")
@database_option
def show_lead(lead: str, database_url: str | None) -> None:
    """Print a lead's fields, static lists and recent activity (every lead of an email)."""
    try:
        key = lead_views.key_for(lead)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'ID|EMAIL'") from None
    store = store_for(database_url)
    try:
        found = lead_views.details(store, key)
        catalogue = catalogue_of(store.custom_fields())
    except MarketoError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    for n, detail in enumerate(found):
        if n:
            click.echo()
        _print_detail(catalogue, detail)


def _print_detail(catalogue: FieldCatalogue, detail: LeadDetail) -> None:
    lead = detail.lead
    row = lead_views.as_text(catalogue, lead)
    for name in KEY_COLUMNS:
        if row.get(name):
            click.echo(f"{name + ':':<20}{row[name]}")
    click.echo(f"{'Created:':<20}{_when(lead.created_at)}")
    click.echo(f"{'Updated:':<20}{_when(lead.updated_at)}")
    fields = sorted((k, v) for k, v in row.items() if k not in KEY_COLUMNS)
    click.echo("Fields:" if fields else "Fields: none")
    for name, value in fields:
        click.echo(f"  {name}: {value}")
    lists = ", ".join(f"{s.name} (id {s.id})" for s in detail.lists)
    click.echo(f"Lists: {lists or 'none'}")
    if not detail.activities:
        click.echo("Recent activity: none")
        return
    click.echo("Recent activity (newest first):")
    for activity in detail.activities:
        attrs = ", ".join(f"{k}={v}" for k, v in activity.attributes)
        asset = f" {activity.asset_name}" if activity.asset_name else ""
        click.echo(f"  {_when(activity.created_at)}  {activity.type}{asset}  {attrs}".rstrip())


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


@leads.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="csv: a header of field names, one lead a row (what leads import and push "
    "read); jsonl: one JSON object a lead, with typed values and its times.",
)
@click.option(
    "--updated-since",
    metavar="TIME",
    help="Only leads updated at or after TIME (ISO 8601; UTC when no offset is given).",
)
@click.option("-o", "--output", default="-", metavar="FILE", help="[standard output]")
@database_option
def export_leads(
    fmt: str, updated_since: str | None, output: str, database_url: str | None
) -> None:
    """Write every lead, in id order, streaming (memory stays flat for any number)."""
    since = None
    if updated_since is not None:
        try:
            since = parse_datetime(updated_since, "--updated-since")
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--updated-since'") from None
    store = store_for(database_url)
    try:
        catalogue = catalogue_of(store.custom_fields())
        with click.open_file(output, "w", encoding="utf-8") as out:
            if fmt == "csv":
                columns = [*KEY_COLUMNS, *lead_views.field_names(catalogue)]
                writer = csv.DictWriter(out, columns, lineterminator="\n")
                writer.writeheader()
                for lead in lead_views.walk(store, since):
                    writer.writerow(lead_views.as_text(catalogue, lead))
            else:
                for lead in lead_views.walk(store, since):
                    out.write(_json_line(lead))
    finally:
        store.close()


def _json_line(lead: Lead) -> str:
    record: dict[str, object] = {"Id": lead.id}
    for name, value in (
        ("Email", lead.email),
        ("ForeignSysPersonId", lead.foreign_sys_person_id),
        ("ForeignSysType", lead.foreign_sys_type),
    ):
        if value is not None:
            record[name] = value
    record.update(lead.values)
    record["CreatedAt"] = _when(lead.created_at)
    record["UpdatedAt"] = _when(lead.updated_at)
    return orjson.dumps(record).decode() + "\n"


@leads.command("import")
@click.argument("file", metavar="FILE.csv")
@map_option
@dedup_option
@batch_size_option
@csv_format_options
@click.option("--resume", is_flag=True, help="Continue an interrupted import of the same file.")
@output_options
@database_option
def import_leads(
    file: str,
    maps: tuple[str, ...],
    dedup: bool,
    batch_size: int,
    delimiter: str,
    encoding: str,
    resume: bool,
    results_path: str | None,
    rejects_path: str | None,
    send_blanks: bool,
    database_url: str | None,
) -> None:
    """Load the leads of FILE.csv straight into the database, without a server.

    The rules, results file, rejects file, exit codes and --resume are those of push.
    """
    store = store_for(database_url)
    try:
        source, mapping = open_csv(file, maps, delimiter, encoding)
        with source:
            columns = columns_of(source, mapping)
            local = LocalSync(
                store, configured(), name=mask("database_url", store.url), batch_size=batch_size
            )
            preparer = RowPreparer(
                columns,
                local.batcher(),
                validator=FieldValidator(local.lead_fields()),
                send_blanks=send_blanks,
            )
            options = push_options(
                file, results_path, rejects_path, dedup, resume, send_blanks, mapping
            )
            run_push(local, source, preparer, options, Reporter(10.0))
    finally:
        store.close()
