"""``leadsync serve``: run the SOAP server."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import new_encryption_key, new_user_id
from leadsync.cli.serve_options import serve_options, settings_from_flags
from leadsync.config import ENV_PREFIX, Settings
from leadsync.limits.startup import prepare
from leadsync.logs import configure_logging
from leadsync.operations.sync import UnknownAttributePolicy
from leadsync.soap.wsdl import wsdl_operations
from leadsync.store import open_store


@main.command()
@click.option("--host", default=None, help="Interface to listen on. [default: 127.0.0.1]")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="[default: 8080]")
@database_option
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(0, 256),
    help="Calls each worker works on at once; others wait their turn."
    " [default: 0, meaning 2 on SQLite, 4 on PostgreSQL]",
)
@click.option("--public-url", default=None, help="Base URL clients use, when behind a proxy.")
@click.option(
    "--auth-window",
    "auth_window_seconds",
    default=None,
    type=click.IntRange(1),
    help="Seconds a requestTimestamp may differ from the server clock. [default: 900]",
)
@click.option("--max-body-bytes", default=None, type=click.IntRange(1024), help="[default: 10 MiB]")
@click.option(
    "--max-records",
    "max_records_per_call",
    default=None,
    type=click.IntRange(0),
    help="Most records in one syncMultipleLeads call (0: no cap). [default: 1000]",
)
@click.option(
    "--unknown-attributes",
    default=None,
    type=click.Choice([p.value for p in UnknownAttributePolicy]),
    help="An unknown attribute faults the call (20105) or fails its record. [default: fault]",
)
@click.option(
    "--sync-lead-key-email/--no-sync-lead-key-email",
    "sync_lead_writes_key_email",
    default=None,
    help="syncLead writes the top-level Email of a lead found by another key. [default: yes]",
)
@click.option(
    "--sync-lead-failure",
    "sync_lead_failure_faults",
    default=None,
    type=click.Choice(["fault", "status"]),
    callback=lambda _ctx, _param, value: None if value is None else value == "fault",
    help="A syncLead record that cannot be written faults (20106) or returns FAILED."
    " [default: fault]",
)
@click.option(
    "--leads-batch-max",
    default=None,
    type=click.IntRange(1),
    help="Most leads one getMultipleLeads call returns. [default: 1000]",
)
@click.option(
    "--max-time-range-days",
    default=None,
    type=click.IntRange(0),
    help="Widest LastUpdateAtSelector / getLeadChanges window (0: no limit). [default: 30]",
)
@click.option(
    "--no-migrate", is_flag=True, help="Refuse to start on a schema that needs migrating."
)
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
@serve_options
def serve(no_migrate: bool, **flags: object) -> None:
    """Run the SOAP server."""
    settings = settings_from_flags(flags)
    configure_logging(settings.log_level)
    store = open_store(settings.database_url, migrate=not no_migrate)
    try:
        if not store.list_users():
            user_id, key = new_user_id(), new_encryption_key()
            store.add_user(user_id, key)
            click.echo("Created an API user (no user existed):")
            click.echo(f"  user id:        {user_id}")
            click.echo(f"  encryption key: {key}")
        notes = prepare(store, settings, wsdl_operations())
    except BaseException:
        store.close()
        raise
    click.echo(f"Database: {settings.database_url}")
    click.echo(
        f"SOAP endpoint: http://{_display_host(settings.host)}:{settings.port}/soap/mktows/2_2"
    )
    click.echo(f"WSDL: http://{_display_host(settings.host)}:{settings.port}/soap/mktows/2_2?WSDL")
    for note in notes:
        click.echo(note)
    _run(settings, store)


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def _run(settings: Settings, store: object) -> None:
    import uvicorn

    from leadsync.app import create_app, tune_gc
    from leadsync.store.base import Store

    common: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": 10,
    }
    if settings.workers > 1:
        assert isinstance(store, Store)
        store.close()
        # Worker processes build their app from the environment, so pass every setting on.
        _export(settings)
        with _metrics_dir():
            target = "leadsync.app:app_from_env"
            uvicorn.run(target, factory=True, workers=settings.workers, **common)  # type: ignore[arg-type]
        return
    assert isinstance(store, Store)
    app = create_app(settings, store)
    tune_gc()
    uvicorn.run(app, **common)  # type: ignore[arg-type]
    store.close()


@contextmanager
def _metrics_dir() -> Iterator[None]:
    """A folder where every worker keeps its metrics, so that a scrape sums them all: the one
    ``PROMETHEUS_MULTIPROC_DIR`` names (emptied first), else a temporary one."""
    from leadsync.metrics import (
        MULTIPROC_ENV,
        prepare_multiprocess_dir,
        remove_multiprocess_dir,
    )

    given = os.environ.get(MULTIPROC_ENV)
    if given:
        prepare_multiprocess_dir(given)
        yield
        return
    folder = tempfile.mkdtemp(prefix="leadsync-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        remove_multiprocess_dir(folder)


def _export(settings: Settings) -> None:
    from dataclasses import fields

    for f in fields(Settings):
        if f.name in ("extra",):
            continue
        env_name = "DATABASE_URL" if f.name == "database_url" else f.name.upper()
        value = getattr(settings, f.name)
        os.environ[ENV_PREFIX + env_name] = str(value.value if hasattr(value, "value") else value)
