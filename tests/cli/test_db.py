"""Schema migrations from the command line: upgrade keeps leads, newer schemas are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from leadsync.store.migrate import latest_version, load_migrations
from support import cli, free_port, leadsync_cmd


def _version_one_database(path: Path) -> None:
    """A database as the first leadsync release left it, holding two leads."""
    first = load_migrations("sqlite")[0]
    with sqlite3.connect(path) as conn:
        conn.executescript(first.sql)
        conn.execute(
            "CREATE TABLE schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        conn.execute("INSERT INTO schema_migrations VALUES (1, ?, 0)", (first.name,))
        conn.executemany(
            "INSERT INTO leads (id, email, email_key, attrs, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 0, 0)",
            [(7, "Old@x.com", "old@x.com", '{"LeadScore": 5}'), (9, "b@x.com", "b@x.com", "{}")],
        )


def test_upgrade_keeps_every_lead(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_one_database(path)
    done = cli("db", "upgrade", "--database", f"sqlite:///{path}")
    assert done.returncode == 0, done.stderr
    latest = latest_version("sqlite")
    if latest > 1:
        applied = ", ".join(str(m.version) for m in load_migrations("sqlite")[1:])
        assert done.stdout == f"applied migrations {applied}; schema version {latest}\n"
    else:
        assert done.stdout == "schema version 1: up to date\n"
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, email, attrs FROM leads ORDER BY id").fetchall()
    assert rows == [(7, "Old@x.com", '{"LeadScore": 5}'), (9, "b@x.com", "{}")]
    again = cli("db", "upgrade", "--database", f"sqlite:///{path}")
    assert again.stdout == f"schema version {latest}: up to date\n"
    assert cli("db", "version", "--database", f"sqlite:///{path}").stdout == f"{latest}\n"


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'future.db'}"
    assert cli("db", "upgrade", "--database", db).returncode == 0
    with sqlite3.connect(tmp_path / "future.db") as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'from_the_future', 0)")
    import subprocess

    serve = subprocess.run(
        [*leadsync_cmd(), "serve", "--port", str(free_port()), "--database", db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode == 1
    assert serve.stderr == (
        "Error: the database schema is at version 999, newer than this leadsync knows "
        f"({latest_version('sqlite')}); upgrade leadsync\n"
    )
    assert cli("users", "list", "--database", db).returncode == 1


def test_serve_no_migrate_refuses_an_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_one_database(path)
    if latest_version("sqlite") == 1:
        return
    import subprocess

    serve = subprocess.run(
        [
            *leadsync_cmd(),
            "serve",
            "--no-migrate",
            "--port",
            str(free_port()),
            "--database",
            f"sqlite:///{path}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode == 1
    assert "run 'leadsync db upgrade'" in serve.stderr
