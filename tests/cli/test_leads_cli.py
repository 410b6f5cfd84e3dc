"""``leadsync leads``: count, show, export and import, in-process on every backend."""

from __future__ import annotations

import csv
import gc
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from leadsync.cli import main
from leadsync.store import open_store

ROWS = "Email,FirstName,LeadScore\na@x.com,Ann,5\nb@x.com,Bob,lots\n,Nobody,3\nc@x.com,Cy,7\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def db(database_url: str) -> str:
    open_store(database_url).close()
    return database_url


def _import(db: str, tmp_path: Path, text: str = ROWS, *flags: str) -> Result:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return run("leads", "import", str(path), *flags, "--database", db)


def test_import_follows_the_rules_of_push(db: str, tmp_path: Path) -> None:
    done = _import(db, tmp_path)
    assert done.exit_code == 1  # as push: some rows failed
    assert done.stdout.splitlines()[0] == "4 rows: 2 created, 0 updated, 2 failed, 0 retried"
    with (tmp_path / "in.results.csv").open(newline="") as f:
        results = list(csv.DictReader(f))
    assert [(r["line"], r["status"]) for r in results] == [
        ("2", "CREATED"),
        ("3", "FAILED"),
        ("4", "FAILED"),
        ("5", "CREATED"),
    ]
    assert "LeadScore is not an integer" in results[1]["error"]
    assert (tmp_path / "in.rejects.csv").read_text() == (
        "Email,FirstName,LeadScore\nb@x.com,Bob,lots\n,Nobody,3\n"
    )
    assert run("leads", "count", "--database", db).stdout == "2\n"
    # Dedup by email, as a push does: the same file again updates.
    again = _import(db, tmp_path, "Email,LeadScore\nA@X.com,9\n")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == "1 row: 0 created, 1 updated, 0 failed, 0 retried"
    assert run("leads", "count", "--database", db).stdout == "2\n"


def test_import_without_a_schema_is_refused(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    done = _import(missing, tmp_path)
    assert done.exit_code == 1
    assert "leadsync db upgrade" in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_show_by_id_and_by_email(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path, "Email,FirstName,LeadScore\na@x.com,Ann,5\n")
    assert run("lists", "add", "Webinar", "--database", db).exit_code == 0
    store = open_store(db)
    try:
        with store.write() as writer:
            writer.add_list_members(1, [1], datetime.now(UTC))
    finally:
        store.close()
    by_email = run("leads", "show", "A@x.com", "--database", db)
    assert by_email.exit_code == 0, by_email.output
    lines = by_email.stdout.splitlines()
    assert lines[0] == "Id:                 1"
    assert lines[1] == "Email:              a@x.com"
    assert "Fields:" in lines
    assert "  FirstName: Ann" in lines
    assert "  LeadScore: 5" in lines
    assert "Lists: Webinar (id 1)" in lines
    assert "Recent activity (newest first):" in lines
    assert any("NewLead" in line for line in lines)
    assert run("leads", "show", "1", "--database", db).stdout == by_email.stdout
    missing = run("leads", "show", "nobody@x.com", "--database", db)
    assert (missing.exit_code, missing.stderr) == (
        1,
        "Error: No lead found with EMAIL = nobody@x.com\n",
    )
    bad = run("leads", "show", "not-a-key", "--database", db)
    assert bad.exit_code == 2


def test_export_csv_and_jsonl(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    exported = run("leads", "export", "--database", db)
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["Id"], r["Email"], r["FirstName"], r["LeadScore"]) for r in rows] == [
        ("1", "a@x.com", "Ann", "5"),
        ("2", "c@x.com", "Cy", "7"),
    ]
    out = tmp_path / "out.jsonl"
    done = run("leads", "export", "--format", "jsonl", "-o", str(out), "--database", db)
    assert (done.exit_code, done.stdout) == (0, "")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["Id"], r["Email"], r["LeadScore"]) for r in records] == [
        (1, "a@x.com", 5),
        (2, "c@x.com", 7),
    ]
    # What export writes, import reads back: the same leads, updated.
    (tmp_path / "back.csv").write_text(exported.stdout)
    back = run("leads", "import", str(tmp_path / "back.csv"), "--database", db)
    assert back.exit_code == 0, back.output
    assert back.stdout.startswith("2 rows: 0 created, 2 updated, 0 failed")


def test_export_updated_since(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    done = run("leads", "export", "--updated-since", future, "--database", db)
    assert done.stdout.splitlines() == [done.stdout.splitlines()[0]]  # the header alone
    past = run("leads", "export", "--updated-since", "2000-01-01", "--database", db)
    assert len(past.stdout.splitlines()) == 3
    bad = run("leads", "export", "--updated-since", "yesterday", "--database", db)
    assert bad.exit_code == 2


def _export_peak(db: str, tmp_path: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        done = run("leads", "export", "-o", str(tmp_path / "all.csv"), "--database", db)
        assert done.exit_code == 0, done.output
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_memory_stays_flat(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'big.db'}"
    open_store(db).close()
    rows = "".join(f"p{i}@x.com,Name{i},{i}\n" for i in range(3000))
    _import(db, tmp_path, "Email,FirstName,LeadScore\n" + rows, "--batch-size", "1000")
    small = _export_peak(db, tmp_path)
    rows = "".join(f"q{i}@x.com,Name{i},{i}\n" for i in range(12000))
    _import(db, tmp_path, "Email,FirstName,LeadScore\n" + rows, "--batch-size", "1000")
    assert run("leads", "count", "--database", db).stdout == "15000\n"
    large = _export_peak(db, tmp_path)
    # Five times the leads, about the same peak: one page at a time.
    assert large < small * 1.5, (small, large)
