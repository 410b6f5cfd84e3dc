"""What ``serve`` checks before it says it is up: the listening socket is bound and the
database opens. Either failing is one line and exit code 2, before any success line."""

from __future__ import annotations

import errno
import socket
import ssl

import click

#: ``serve`` could not start (port busy, database unreadable); 1 stays for bad settings.
EXIT_START_FAILED = 2


class StartFailed(click.ClickException):
    exit_code = EXIT_START_FAILED


def check_tls(certfile: str, keyfile: str) -> None:
    """The certificate and key load as a server's, or stop here with one line (rather than
    in every worker, after the endpoint was printed)."""
    if keyfile and not certfile:
        raise StartFailed("--ssl-keyfile needs --ssl-certfile")
    if not certfile:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile or None)
    except OSError as exc:
        # ssl.SSLError is an OSError too; its reason says what is wrong with the PEM.
        reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
        where = f"{certfile} / {keyfile}" if keyfile else certfile
        raise StartFailed(f"cannot use the TLS certificate {where}: {reason}") from None


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (0: any free port), for the server to accept on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # As uvicorn binds: a restart need not wait for the old connections' TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is in use (another leadsync or another server?)"
        raise StartFailed(f"cannot listen on {host}:{port}: {reason}") from None
    return sock
