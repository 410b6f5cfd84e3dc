"""Bounds on every connection, against a real server process on 127.0.0.1: head size, head
and body timeouts, keep-alive idle time, open connections and bodies held in memory."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving_support import HEAD, MIB, connect, rss_bytes, seconds_until_closed
from support import Server, running_server

#: Short timeouts keep these tests fast; the margins allow for a busy two-core machine.
ENV = {
    "LEADSYNC_HEADER_TIMEOUT_SECONDS": "1",
    "LEADSYNC_BODY_TIMEOUT_SECONDS": "1",
    "LEADSYNC_KEEP_ALIVE_SECONDS": "1",
    "LEADSYNC_MAX_CONNECTIONS": "20",
}
MARGIN = 3.0


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("bounded"), env=ENV) as srv:
        yield srv


def test_an_idle_connection_is_closed_after_the_header_timeout(bounded: Server) -> None:
    with connect(bounded) as sock:
        took, got = seconds_until_closed(sock)
    assert 0.5 < took < 1 + MARGIN
    assert got.startswith(b"HTTP/1.1 408")


def test_a_partial_head_is_closed_after_the_header_timeout(bounded: Server) -> None:
    with connect(bounded) as sock:
        sock.sendall(HEAD.encode())
        took, got = seconds_until_closed(sock)
    assert 0.5 < took < 1 + MARGIN
    assert got.startswith(b"HTTP/1.1 408")


def test_a_stalled_body_is_closed_after_the_body_timeout(bounded: Server) -> None:
    with connect(bounded) as sock:
        sock.sendall(f"{HEAD}Content-Length: 100000\r\n\r\n<x>".encode())
        took, _ = seconds_until_closed(sock)
    assert 0.5 < took < 1 + MARGIN


def test_an_idle_keep_alive_connection_is_closed(bounded: Server) -> None:
    with connect(bounded) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        took, _ = seconds_until_closed(sock)
    assert 0.5 < took < 1 + MARGIN


def test_a_header_stream_is_cut_off(bounded: Server) -> None:
    before = rss_bytes(bounded)
    sent = 0
    line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    with connect(bounded) as sock:
        sock.sendall(HEAD.encode())
        try:
            while sent < 401 * MIB:
                sock.sendall(line * 64)
                sent += len(line) * 64
        except (BrokenPipeError, ConnectionResetError):
            pass
    # What the server accepted is its 64 KiB plus what the kernel's buffers took meanwhile.
    assert sent < 16 * MIB
    assert rss_bytes(bounded) - before < 20 * MIB


def test_the_431_answer_is_read_before_the_close(bounded: Server) -> None:
    with connect(bounded) as sock:
        sock.sendall(HEAD.encode() + b"X-Big: " + b"b" * (70 * 1024) + b"\r\n\r\n")
        _, got = seconds_until_closed(sock)
    assert got.startswith(b"HTTP/1.1 431")


def test_connections_beyond_the_cap_are_refused_at_once(bounded: Server) -> None:
    # The server accepts in arrival order: by the time it accepts the extra connection, it
    # holds the 20 before it.
    held = [connect(bounded) for _ in range(20)]
    try:
        with connect(bounded) as extra:
            took, got = seconds_until_closed(extra)
        assert got.startswith(b"HTTP/1.1 503")
        assert took < 0.5
    finally:
        for sock in held:
            sock.close()


def test_stalled_bodies_keep_memory_bounded(tmp_path: Path) -> None:
    env = {**ENV, "LEADSYNC_MAX_CONNECTIONS": "200", "LEADSYNC_BODY_TIMEOUT_SECONDS": "5"}
    with running_server(tmp_path, env=env) as srv:
        before = rss_bytes(srv)
        socks = [connect(srv) for _ in range(100)]
        body = b"<" * (10 * MIB - 1024)
        deadline = time.monotonic() + 8
        peak = 0
        try:
            for sock in socks:
                sock.sendall(f"{HEAD}Content-Length: {10 * MIB}\r\n\r\n".encode())
                sock.setblocking(False)
            offsets = [0] * len(socks)
            while time.monotonic() < deadline:
                for i, sock in enumerate(socks):
                    if offsets[i] < len(body):
                        with contextlib.suppress(BlockingIOError, ConnectionError):
                            offsets[i] += sock.send(body[offsets[i] : offsets[i] + MIB])
                peak = max(peak, rss_bytes(srv))
        finally:
            for sock in socks:
                sock.close()
        assert peak - before < 250 * MIB, (before, peak)
        assert peak < 300 * MIB
        # Once the connections are gone, so is the memory their bodies held.
        deadline = time.monotonic() + 20
        while rss_bytes(srv) - before > 60 * MIB and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rss_bytes(srv) - before < 60 * MIB, (before, rss_bytes(srv))


def test_worker_processes_have_the_bounds_too(tmp_path: Path) -> None:
    with running_server(tmp_path, "--workers", "2", env=ENV) as srv:
        for _ in range(4):  # connections spread over both workers
            with connect(srv) as sock:
                took, got = seconds_until_closed(sock)
            assert got.startswith(b"HTTP/1.1 408")
            assert took < 1 + MARGIN
