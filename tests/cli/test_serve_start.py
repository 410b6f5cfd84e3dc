"""``serve`` fails before any success line: a busy port or an unreadable database is one
line and exit code 2, and nothing is printed as if the server were up."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import trustme
from click.testing import CliRunner, Result

from leadsync.cli import main
from support import leadsync_cmd


def serve(*args: str) -> Result:
    return CliRunner().invoke(main, ["serve", *args])


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = tmp_path / "never.db"
        done = serve("--port", str(port), "--database", f"sqlite:///{db}")
    assert done.exit_code == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"Error: cannot listen on 127.0.0.1:{port}: the port is in use"
        " (another leadsync or another server?)\n"
    )
    assert not db.exists()


def test_an_unreadable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database, whatever its name says" * 200)
    for url in (f"sqlite:///{junk}", f"sqlite:///{tmp_path / 'no' / 'folder.db'}"):
        done = serve("--port", "0", "--database", url)
        assert done.exit_code == 2, done.output
        assert done.stdout == ""
        assert done.stderr.startswith("Error: cannot open database ")
        assert done.stderr.count("\n") == 1


def test_a_bad_certificate_is_one_line_and_exit_2(tmp_path: Path) -> None:
    not_pem = tmp_path / "cert.pem"
    not_pem.write_text("not a certificate\n")
    cases = [
        (["--ssl-certfile", str(tmp_path / "missing.pem")], "No such file or directory"),
        (["--ssl-certfile", str(not_pem)], "PEM"),
        (["--ssl-keyfile", str(not_pem)], "--ssl-keyfile needs --ssl-certfile"),
    ]
    for flags, reason in cases:
        db = tmp_path / "never.db"
        done = serve("--port", "0", "--database", f"sqlite:///{db}", *flags)
        assert done.exit_code == 2, done.output
        assert done.stdout == ""
        assert done.stderr.startswith("Error: ")
        assert reason in done.stderr
        assert done.stderr.count("\n") == 1
        assert not db.exists()


def test_a_good_certificate_serves_https(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path, ca_path = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    process = subprocess.Popen(
        [
            *leadsync_cmd(),
            "serve",
            *("--port", "0", "--database", f"sqlite:///{tmp_path / 'tls.db'}"),
            *("--ssl-certfile", str(cert_path), "--ssl-keyfile", str(key_path)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = next(
            line.split(": ", 1)[1].strip()
            for line in process.stdout
            if line.startswith("SOAP endpoint: ")
        )
        assert endpoint.startswith("https://127.0.0.1:")
        health = endpoint.split("/soap/")[0] + "/healthz"
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(health, verify=ssl.create_default_context(cafile=ca_path))
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.05)
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=15)
