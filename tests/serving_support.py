"""Raw-socket helpers for the connection-bounds tests, and the server's memory use."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from support import Server

MIB = 1024 * 1024
HEAD = "POST /soap/mktows/2_2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"


def connect(server: Server) -> socket.socket:
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    return sock


def seconds_until_closed(sock: socket.socket) -> tuple[float, bytes]:
    """Read until the server closes the connection: (seconds it took, what it sent)."""
    started = time.monotonic()
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except ConnectionResetError:
        pass
    return time.monotonic() - started, got


def rss_bytes(server: Server, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field}")
