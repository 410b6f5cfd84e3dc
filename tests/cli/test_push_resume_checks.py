"""``push --resume`` resumes only the same push: same data-shaping options, same file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.test_push import read_results, run_push, write_csv
from client.faultproxy import fault_proxy
from client.helpers import emails_in_db
from leadsync.client import Client
from leadsync.client.csvsource import Columns, CsvSource
from leadsync.client.push import Progress, PushEngine, PushOptions, RowPreparer
from support import Server, running_server

JOURNAL = "a.results.csv.journal"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("resume-server")) as srv:
        yield srv


def _interrupted(server: Server, tmp_path: Path, prefix: str, *flags: str) -> None:
    """A push of 500 rows whose second call is refused: some rows done, a journal left."""
    write_csv(
        tmp_path / "a.csv",
        ["E-mail", "FirstName"],
        [[f"{prefix}-{i}@example.com", "K"] for i in range(500)],
    )
    with fault_proxy(server.base_url, ["forward", "fault:20014"]) as proxy:
        done = run_push(
            "a.csv",
            "--batch-size",
            "100",
            "--concurrency",
            "1",
            *flags,
            server=server,
            endpoint=proxy.endpoint(),
            cwd=tmp_path,
        )
    assert done.returncode == 2, done.stderr
    assert (tmp_path / JOURNAL).exists()


@pytest.mark.parametrize(
    ("first", "again", "named"),
    [
        (
            ["--map", "E-mail=Email"],
            ["--map", "E-mail=Email", "--map", "FirstName="],
            "the interrupted push used --map E-mail=Email, "
            "this one --map E-mail=Email --map FirstName=",
        ),
        (
            ["--map", "E-mail=Email"],
            ["--map", "E-mail=Email", "--send-blanks"],
            "the interrupted push used no --send-blanks, this one --send-blanks",
        ),
        (
            ["--map", "E-mail=Email"],
            ["--map", "E-mail=Email", "--no-dedup"],
            "the interrupted push used --dedup, this one --no-dedup",
        ),
    ],
    ids=["map", "send-blanks", "dedup"],
)
def test_other_options_are_refused_and_the_journal_kept(
    server: Server, tmp_path: Path, first: list[str], again: list[str], named: str
) -> None:
    prefix = "r" + os.urandom(5).hex()
    _interrupted(server, tmp_path, prefix, *first)
    journal_before = (tmp_path / JOURNAL).read_bytes()
    sent_before = emails_in_db(server, f"{prefix}-%")
    assert 0 < len(sent_before) < 500
    refused = run_push("a.csv", "--resume", *again, server=server, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"Error: cannot resume: {named}; resume with the same options and file, or delete "
        f"{JOURNAL} to start over\n"
    )
    assert (tmp_path / JOURNAL).read_bytes() == journal_before
    assert emails_in_db(server, f"{prefix}-%") == sent_before
    done = run_push("a.csv", "--resume", *first, server=server, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / JOURNAL).exists()
    assert len(read_results(tmp_path / "a.results.csv")) == 500
    assert len(emails_in_db(server, f"{prefix}-%")) == 500


def test_a_changed_input_file_is_refused(server: Server, tmp_path: Path) -> None:
    prefix = "r" + os.urandom(5).hex()
    _interrupted(server, tmp_path, prefix, "--map", "E-mail=Email")
    path = tmp_path / "a.csv"
    original = path.read_bytes()
    stat = path.stat()

    def resume() -> str:
        refused = run_push(
            "a.csv", "--resume", "--map", "E-mail=Email", server=server, cwd=tmp_path
        )
        assert refused.returncode == 2
        assert (tmp_path / JOURNAL).exists()
        return refused.stderr

    path.write_bytes(original + f"{prefix}-extra@example.com,K\n".encode())
    assert f"a.csv changed since the interrupted push: {len(original):,} bytes then," in resume()
    # Same size, other first bytes, the old modification time put back.
    path.write_bytes(original.replace(b"K\n", b"L\n", 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "a.csv changed since the interrupted push: its first bytes differ" in resume()
    path.write_bytes(original)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert "a.csv changed since the interrupted push: modified at" in resume()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    done = run_push("a.csv", "--resume", "--map", "E-mail=Email", server=server, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(emails_in_db(server, f"{prefix}-%")) == 500


def test_a_resumed_run_counts_only_its_own_rows(server: Server, tmp_path: Path) -> None:
    prefix = "r" + os.urandom(5).hex()
    _interrupted(server, tmp_path, prefix, "--map", "E-mail=Email")
    mapping = {"E-mail": "Email"}
    seen: list[Progress] = []
    source = CsvSource(str(tmp_path / "a.csv"))
    client = Client(server.endpoint, server.user_id, server.key, rate_limit=None, batch_size=100)
    with source, client:
        preparer = RowPreparer(Columns.from_header(source.header, mapping), client.batcher())
        options = PushOptions(
            str(tmp_path / "a.results.csv"),
            str(tmp_path / "a.rejects.csv"),
            resume=True,
            mapping=mapping,
        )
        report = PushEngine(client, source, preparer, options, on_progress=seen.append).run()
    assert 0 < report.resumed_from < 500
    assert seen[-1].rows_done == 500
    # What rows/s divides by this run's time: the rows this run settled, not those before.
    assert seen[-1].rows_this_run == 500 - report.resumed_from
