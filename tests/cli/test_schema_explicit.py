"""Only serve, db upgrade and users add create a schema; every other command refuses a
database without one, in one line, and writes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from backends import backend_of
from leadsync.cli import main
from leadsync.store import open_store

#: Every command that opens the database, except those that set it up.
COMMANDS = [
    ["users", "list"],
    ["users", "remove", "alice"],
    ["users", "update", "alice", "--daily-quota", "5"],
    ["users", "usage"],
    ["fields", "list"],
    ["fields", "add", "Shoe_Size__c", "--type", "integer"],
    ["lists", "list"],
    ["lists", "add", "Webinar"],
    ["reset", "--yes"],
    ["db", "version"],
]


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, list(args))
    return done.exit_code, done.stderr


def tables(url: str) -> set[str]:
    if backend_of(url) == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        conn.close()
    else:
        with psycopg.connect(url) as pg:
            rows = pg.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            ).fetchall()
    return {name for (name,) in rows}


def assert_refused(code: int, stderr: str) -> None:
    assert code == 1, stderr
    assert stderr.startswith("Error: ")
    assert stderr.count("\n") == 1, stderr
    assert "no leadsync schema" in stderr or "no leadsync database" in stderr
    assert "leadsync db upgrade" in stderr


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_database_without_the_schema_is_refused_untouched(
    database_url: str, command: list[str]
) -> None:
    if backend_of(database_url) == "sqlite":
        # Somebody else's SQLite file: it must stay exactly as it was.
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            conn.execute("CREATE TABLE theirs (x)")
        conn.close()
        path = Path(database_url.removeprefix("sqlite:///"))
        before = path.read_bytes()
    else:
        with psycopg.connect(database_url, autocommit=True) as pg:
            pg.execute("CREATE TABLE theirs (x int)")
    assert_refused(*run(*command, "--database", database_url))
    assert tables(database_url) == {"theirs"}
    if backend_of(database_url) == "sqlite":
        assert path.read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_missing_sqlite_file_is_not_created(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "nothing-here.db"
    code, stderr = run(*command, "--database", f"sqlite:///{path}")
    assert_refused(code, stderr)
    assert str(path) in stderr
    assert list(tmp_path.iterdir()) == []


def test_an_old_schema_asks_for_an_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_store(url).close()
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version > 1")
    conn.close()
    code, stderr = run("users", "list", "--database", url)
    assert code == 1
    assert stderr.endswith("run 'leadsync db upgrade'\n")


@pytest.mark.parametrize(
    "command",
    [["db", "upgrade"], ["users", "add", "alice", "--encryption-key", "k"]],
    ids=lambda c: " ".join(c[:2]),
)
def test_the_set_up_commands_create_the_schema(database_url: str, command: list[str]) -> None:
    code, stderr = run(*command, "--database", database_url)
    assert code == 0, stderr
    assert run("users", "list", "--database", database_url)[0] == 0
    assert "schema_migrations" in tables(database_url)
