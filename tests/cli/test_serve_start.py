"""``serve`` fails before any success line: a busy port or an unreadable database is one
line and exit code 2, and nothing is printed as if the server were up."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner, Result

from leadsync.cli import main


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
