"""``leadsync serve``: run the server (SOAP and REST)."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime

import click

from leadsync.cli import main
from leadsync.cli.common import new_encryption_key, new_user_id
from leadsync.cli.serve_options import serve_options, settings_from_flags
from leadsync.cli.serve_start import StartFailed, check_tls, listen
from leadsync.config import Settings
from leadsync.errors import StoreError
from leadsync.limits.policy import format_rate
from leadsync.limits.startup import prepare
from leadsync.logs import configure_logging
from leadsync.operations.identity import create_service
from leadsync.rest.limits import rest_limits
from leadsync.rest.routes import rest_operations
from leadsync.soap.wsdl import wsdl_operations
from leadsync.store import open_store

#: uvicorn's own code for a server that did not start once the socket was bound.
EXIT_UVICORN_FAILED = 3


@main.command()
@serve_options
def serve(no_migrate: bool, **flags: object) -> None:
    """Run the server: the SOAP API, the REST API and the admin API."""
    settings = settings_from_flags(flags)
    configure_logging(settings.log_level, settings.log_format)
    # Listening and the database come first: what fails there fails before any line
    # says the server is up.
    check_tls(settings.ssl_certfile, settings.ssl_keyfile)
    sock = listen(settings.host, settings.port)
    try:
        store = open_store(
            settings.database_url,
            migrate=not no_migrate,
            wait_seconds=settings.database_wait_seconds,
        )
    except StoreError as exc:
        sock.close()
        raise StartFailed(str(exc)) from None
    except BaseException:
        sock.close()
        raise
    settings = replace(settings, port=sock.getsockname()[1])
    try:
        if not store.list_users():
            user_id, key = new_user_id(), new_encryption_key()
            store.add_user(user_id, key)
            click.echo("Created an API user (no user existed):")
            click.echo(f"  user id:        {user_id}")
            click.echo(f"  encryption key: {key}")
        if not store.services().list_services():
            service = create_service(store, "leadsync", datetime.now(UTC))
            click.echo("Created a REST API service (no service existed):")
            click.echo(f"  client id:      {service.client_id}")
            click.echo(f"  client secret:  {service.client_secret}")
        notes = prepare(store, settings, [*wsdl_operations(), *rest_operations()])
        rest = rest_limits(settings)
        if rest.any:
            notes.append(
                f"REST limits per instance: {rest.daily_quota or 'no'} calls a day,"
                f" rate {format_rate(rest.rate_calls, rest.rate_window_ms)},"
                f" concurrency {rest.concurrency or 'off'}"
            )
    except BaseException:
        store.close()
        sock.close()
        raise
    click.echo(f"Database: {settings.database_url}")
    base = f"{'https' if settings.ssl_certfile else 'http'}://{_display_host(settings.host)}"
    base += f":{settings.port}"
    click.echo(f"SOAP endpoint: {base}/soap/mktows/2_2")
    click.echo(f"WSDL: {base}/soap/mktows/2_2?WSDL")
    click.echo(f"REST base URL: {base}/rest")
    click.echo(f"REST identity URL: {base}/identity")
    for note in notes:
        click.echo(note)
    if not settings.public_url and not _loopback(settings.host):
        click.echo(
            "Note: the WSDL's address follows each request's Host header; set --public-url to"
            " the address clients should use."
        )
    _run(settings, store, sock)


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def _run(settings: Settings, store: object, sock: socket.socket) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from leadsync.app import connection_limits, create_app, tune_gc
    from leadsync.serving.protocol import BoundedHttpToolsProtocol, use_limits
    from leadsync.serving.secrets import workers_environment
    from leadsync.store.base import Store

    use_limits(connection_limits(settings))
    common: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": 10,
        "http": BoundedHttpToolsProtocol,
        "timeout_keep_alive": settings.keep_alive_seconds,
    }
    if settings.ssl_certfile:
        common["ssl_certfile"] = settings.ssl_certfile
        common["ssl_keyfile"] = settings.ssl_keyfile or None
    if settings.log_format == "json":
        # uvicorn's own records then reach the JSON handler instead of its text ones.
        common["log_config"] = None
    if settings.workers > 1:
        assert isinstance(store, Store)
        store.close()
        # Worker processes build their app from the environment, so pass every setting on;
        # secret ones through a private file rather than the environment.
        with workers_environment(settings, os.environ), _metrics_dir(), sock:
            target = "leadsync.app:app_from_env"
            config = uvicorn.Config(target, factory=True, workers=settings.workers, **common)  # type: ignore[arg-type]
            with suppress(KeyboardInterrupt):
                Multiprocess(config, sockets=[sock]).run()
        return
    assert isinstance(store, Store)
    app = create_app(settings, store)
    tune_gc()
    # On the socket bound before the endpoint was printed.
    server = uvicorn.Server(uvicorn.Config(app, **common))  # type: ignore[arg-type]
    with sock, suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    store.close()
    if not server.started:
        sys.exit(EXIT_UVICORN_FAILED)


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
