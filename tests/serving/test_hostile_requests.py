"""Hostile and broken requests against a real server process: costly bodies from unknown
callers, aborted uploads, HEAD, oversize bodies whatever the ``Connection`` header."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serving_support import HEAD, MIB, connect, rss_bytes, seconds_until_closed
from support import Server, envelope, fault, running_server


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("small"), "--max-body-bytes", "4096") as srv:
        yield srv


def wait_for_log(server: Server, text: str, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = server.log()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log:\n{server.log()}")


def test_a_million_attributes_from_an_unknown_user_cost_no_tree(tmp_path: Path) -> None:
    attributes = " ".join(f'a{i:x}=""' for i in range(1_000_000))
    body = envelope("getLead", f"<x {attributes}/>", "nobody", "wrong-key").encode()
    assert len(body) < 10 * MIB
    with running_server(tmp_path) as srv:
        before = rss_bytes(srv, "VmHWM")
        started = time.monotonic()
        response = srv.post(body)
        took = time.monotonic() - started
        assert fault(response).code == 20014
        # Reading the body is all it costs: no tree is built for a caller who did not sign.
        assert rss_bytes(srv, "VmHWM") - before < 20 * MIB
        assert took < 5


def test_a_million_attributes_from_a_known_user_are_refused_unparsed(tmp_path: Path) -> None:
    attributes = " ".join(f'a{i:x}=""' for i in range(1_000_000))
    body = envelope("getLead", f"<x {attributes}/>").encode()
    with running_server(tmp_path) as srv:
        before = rss_bytes(srv, "VmHWM")
        got = fault(srv.post(body))
        assert got.code == 20012
        assert "more than 500000 attributes" in got.message
        assert rss_bytes(srv, "VmHWM") - before < 20 * MIB


def test_a_header_that_never_ends_is_20012(server: Server) -> None:
    head = "<ns1:AuthenticationHeader>" + "<pad/>" * 20_000 + "</ns1:AuthenticationHeader>"
    response = server.post(envelope("getLead", "", header=head))
    got = fault(response)
    assert got.code == 20012
    assert "first 65536 bytes" in got.message


def test_an_aborted_upload_is_one_quiet_log_line(small: Server) -> None:
    with connect(small) as sock:
        sock.sendall(f"{HEAD}Content-Length: 4000\r\n\r\n<x>".encode())
        sock.shutdown(socket.SHUT_WR)
        seconds_until_closed(sock)
    log = wait_for_log(small, "client closed its connection")
    assert "Traceback" not in log
    assert "ClientDisconnect" not in log


@pytest.mark.parametrize("connection", ["close", "keep-alive"])
def test_an_oversize_body_gets_its_fault_whatever_the_connection_header(
    small: Server, connection: str
) -> None:
    for _ in range(3):
        response = small.post(b"<" + b"x" * (200 * 1024), Connection=connection)
        assert fault(response).code == 20012


def test_an_oversize_body_without_length_gets_its_fault_on_close(small: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b"y" * 4096

    response = httpx.post(
        small.endpoint,
        content=chunks(),
        headers={"Content-Type": "text/xml", "Connection": "close"},
    )
    assert fault(response).code == 20012


def test_head_is_get_without_a_body(server: Server) -> None:
    wsdl = httpx.head(server.endpoint + "?WSDL")
    assert wsdl.status_code == 200
    assert wsdl.content == b""
    assert wsdl.headers["content-type"].startswith("text/xml")
    assert httpx.head(server.endpoint).status_code == 405


def test_bodies_beyond_the_in_flight_budget_wait_then_get_20024(tmp_path: Path) -> None:
    env = {
        "LEADSYNC_MAX_BODY_BYTES_IN_FLIGHT": str(MIB),
        "LEADSYNC_BODY_WAIT_SECONDS": "1",
        "LEADSYNC_BODY_TIMEOUT_SECONDS": "30",
    }
    with running_server(tmp_path, env=env) as srv, connect(srv) as holder:
        # One body takes the whole budget and stalls half-way.
        holder.sendall(f"{HEAD}Content-Length: {MIB}\r\n\r\n".encode() + b"<" * 1000)
        started = time.monotonic()
        got = fault(srv.post(envelope("getLead", "<leadKey/>")))
        took = time.monotonic() - started
        assert got.code == 20024
        assert 0.5 < took < 5
