"""The command line: exact spellings, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from leadsync.store import open_store
from support import cli, free_port, leadsync_cmd, run_cli


def db_url(tmp_path: Path) -> str:
    """A database with leadsync's schema, as ``db upgrade`` leaves it."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    open_store(url).close()
    return url


def test_users_add_list_remove(tmp_path: Path) -> None:
    db = db_url(tmp_path)
    added = cli("users", "add", "alice", "--encryption-key", "s3cret", "--database", db)
    assert added.returncode == 0, added.stderr
    assert added.stdout == "user id:        alice\nencryption key: s3cret\n"
    generated = cli("users", "add", "bob", "--database", db)
    key = generated.stdout.splitlines()[1].split()[-1]
    assert len(key) == 40
    int(key, 16)
    listed = cli("users", "list", "--database", db)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["alice", "bob"]
    assert "s3cret" not in listed.stdout
    assert cli("users", "remove", "alice", "--database", db).stdout == "removed alice\n"
    again = cli("users", "remove", "alice", "--database", db)
    assert (again.returncode, again.stderr) == (1, "Error: no API user 'alice'\n")


def test_duplicate_user_is_a_one_line_error(tmp_path: Path) -> None:
    db = db_url(tmp_path)
    cli("users", "add", "alice", "--database", db)
    dup = cli("users", "add", "alice", "--database", db)
    assert dup.returncode == 1
    assert dup.stderr == "Error: API user 'alice' exists already\n"


def test_database_from_environment(tmp_path: Path) -> None:
    env = {"LEADSYNC_DATABASE_URL": db_url(tmp_path)}
    cli("users", "add", "carol", env=env)
    assert cli("users", "list", env=env).stdout.startswith("carol\t")
    assert (tmp_path / "cli.db").exists()


def test_fields_add_and_list(tmp_path: Path) -> None:
    db = db_url(tmp_path)
    added = cli("fields", "add", "Shoe_Size__c", "--type", "integer", "--database", db)
    assert added.stdout == "added field Shoe_Size__c (integer)\n"
    custom = cli("fields", "list", "--custom-only", "--database", db)
    assert custom.stdout == "Shoe_Size__c\tinteger\tcustom\n"
    listed = cli("fields", "list", "--database", db).stdout.splitlines()
    assert "LeadScore\tinteger\tstandard" in listed
    assert "Email\temail\tstandard" in listed
    assert "Shoe_Size__c\tinteger\tcustom" in listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fields", "add", "Company", "--type", "string"],
            "Error: Company is a standard lead field\n",
        ),
        (["fields", "add", "9lives", "--type", "string"], "Error: a field name starts with"),
    ],
)
def test_bad_field_names(tmp_path: Path, args: list[str], message: str) -> None:
    done = cli(*args, "--database", db_url(tmp_path))
    assert done.returncode == 1
    assert done.stderr.startswith(message)


def test_bad_field_type_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("fields", "add", "X", "--type", "blob", "--database", db_url(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("Error: Invalid value for '--type'")
    assert done.stderr.count("\n") == 1


def test_bad_flag_is_a_usage_error() -> None:
    done = run_cli("serve", "--no-such-flag")
    assert done.returncode == 2
    assert done.stderr == (
        "Error: No such option '--no-such-flag'. (see 'leadsync serve --help')\n"
    )


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent/folder/x.db",
        "mysql://localhost/x",
        "postgresql://nobody@127.0.0.1:1/none",
    ],
)
def test_unreachable_database_is_one_line(url: str) -> None:
    done = run_cli("users", "list", "--database", url)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ")
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_serve_creates_a_user_when_none_exists_and_prints_the_endpoint(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "LEADSYNC_DATABASE_URL": db_url(tmp_path),
        "LEADSYNC_PORT": str(port),
        "LEADSYNC_HOST": "127.0.0.1",
    }
    proc = subprocess.Popen(
        [*leadsync_cmd(), "serve"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().decode() for _ in range(11)]
        assert lines[0] == "Created an API user (no user existed):\n"
        user_id = lines[1].split()[-1]
        key = lines[2].split()[-1]
        assert lines[3] == "Created a REST API service (no service existed):\n"
        client_id = lines[4].split()[-1]
        client_secret = lines[5].split()[-1]
        assert lines[7] == f"SOAP endpoint: http://127.0.0.1:{port}/soap/mktows/2_2\n"
        assert lines[9] == f"REST base URL: http://127.0.0.1:{port}/rest\n"
        assert lines[10] == f"REST identity URL: http://127.0.0.1:{port}/identity\n"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    listed = cli("users", "list", "--database", db_url(tmp_path))
    assert listed.stdout.startswith(user_id + "\t")
    assert len(key) == 40
    services = cli("services", "list", "--database", db_url(tmp_path))
    assert services.stdout.startswith(client_id + "\t")
    assert len(client_secret) == 32


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("leadsync, version ")
