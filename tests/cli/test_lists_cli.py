"""``leadsync lists``: exact output and one-line errors."""

from __future__ import annotations

from pathlib import Path

from leadsync.store import open_store
from support import cli


def lists_db(tmp_path: Path) -> str:
    """A database with leadsync's schema (only serve, db upgrade and users add create one)."""
    url = f"sqlite:///{tmp_path / 'lists.db'}"
    open_store(url).close()
    return url


def test_add_and_list(tmp_path: Path) -> None:
    db = lists_db(tmp_path)
    first = cli("lists", "add", "Webinar.Attendees", "--database", db)
    assert (first.returncode, first.stdout) == (0, "added list Webinar.Attendees (id 1)\n")
    assert cli("lists", "add", "  Alpha  ", "--database", db).stdout == "added list Alpha (id 2)\n"
    listed = cli("lists", "list", "--database", db)
    assert listed.stdout == "2\tAlpha\t0\n1\tWebinar.Attendees\t0\n"


def test_names_are_unique_without_regard_to_case(tmp_path: Path) -> None:
    db = lists_db(tmp_path)
    cli("lists", "add", "Webinar.Attendees", "--database", db)
    dup = cli("lists", "add", "WEBINAR.attendees", "--database", db)
    assert (dup.returncode, dup.stderr) == (1, "Error: list 'WEBINAR.attendees' exists already\n")


def test_bad_names(tmp_path: Path) -> None:
    db = lists_db(tmp_path)
    empty = cli("lists", "add", "   ", "--database", db)
    assert (empty.returncode, empty.stderr) == (1, "Error: a list name cannot be empty\n")
    long = cli("lists", "add", "x" * 256, "--database", db)
    assert long.returncode == 1
    assert long.stderr.startswith("Error: a list name holds at most 255 characters")


def test_an_empty_database_lists_nothing(tmp_path: Path) -> None:
    listed = cli("lists", "list", "--database", lists_db(tmp_path))
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", "")
