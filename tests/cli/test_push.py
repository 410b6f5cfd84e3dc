"""``leadsync push`` as a user runs it: a subprocess against a real server (and proxy)."""

from __future__ import annotations

import csv
import gzip
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from client.faultproxy import FaultProxy, fault_proxy
from client.helpers import emails_in_db
from support import Server, free_port, running_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One SQLite server: the push command is the same on every storage backend, and the
    tests count leads in the database file."""
    with running_server(tmp_path_factory.mktemp("push-server")) as srv:
        yield srv


@pytest.fixture
def prefix() -> str:
    return "p" + uuid.uuid4().hex[:10]


def push_cmd() -> list[str]:
    from leadsync.cli import main

    if "push" in main.commands:
        return [sys.executable, "-m", "leadsync.cli", "push"]
    return [sys.executable, "-m", "leadsync.cli.push", "push"]


def run_push(
    *args: str,
    server: Server | None = None,
    endpoint: str | None = None,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSYNC_")} | (env or {})
    creds: list[str] = []
    if server is not None:
        creds = [
            "--endpoint",
            endpoint or server.endpoint,
            "--user-id",
            server.user_id,
            "--encryption-key",
            server.key,
        ]
    return subprocess.run(
        [*push_cmd(), *args, *creds, "--rate-limit", "none"],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_push_is_registered_on_the_leadsync_command() -> None:
    from leadsync.cli import main

    if "push" not in main.commands:
        pytest.skip("leadsync.cli._register() does not import leadsync.cli.push yet")
    assert main.commands["push"].name == "push"


def test_push_reports_every_row_and_the_rejects_push_again(
    server: Server, tmp_path: Path, prefix: str
) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(
        "Email,FirstName,LeadScore\n"
        f"{prefix}-1@example.com,Ann,1\n"
        f"{prefix}-2@example.com,Bob,abc\n"
        ",Nokey,3\n"
        "only-one-field\n"
        f"{prefix}-3@example.com,Cid,\n"
        f"{prefix}-4@example.com,Dee,4\n",
        encoding="utf-8",
    )
    done = run_push("leads.csv", server=server, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout == (
        "6 rows: 3 created, 0 updated, 3 failed, 0 retried\n"
        "Results: leads.results.csv\n"
        "Rejects: leads.rejects.csv (3 rows)\n"
    )
    assert done.stderr == (
        "line 3: value for LeadScore is not an integer: 'abc'\n"
        "line 4: no key: the row needs Id, Email or ForeignSysPersonId\n"
        "line 5: expected 3 fields, found 1\n"
    )
    results = read_results(tmp_path / "leads.results.csv")
    assert [(r["line"], r["key"], r["status"]) for r in results] == [
        ("2", f"Email={prefix}-1@example.com", "CREATED"),
        ("3", f"Email={prefix}-2@example.com", "FAILED"),
        ("4", "", "FAILED"),
        ("5", "", "FAILED"),
        ("6", f"Email={prefix}-3@example.com", "CREATED"),
        ("7", f"Email={prefix}-4@example.com", "CREATED"),
    ]
    assert all(r["lead_id"].isdigit() for r in results if r["status"] == "CREATED")
    assert results[2]["error"] == "no key: the row needs Id, Email or ForeignSysPersonId"
    rejects = tmp_path / "leads.rejects.csv"
    assert rejects.read_text(encoding="utf-8") == (
        f"Email,FirstName,LeadScore\n{prefix}-2@example.com,Bob,abc\n,Nokey,3\nonly-one-field\n"
    )
    assert set(emails_in_db(server, f"{prefix}-%")) == {
        f"{prefix}-{i}@example.com" for i in (1, 3, 4)
    }

    # Fix the rejects and push them again: a clean run, exit 0.
    rejects.write_text(
        rejects.read_text(encoding="utf-8")
        .replace(",Bob,abc", ",Bob,2")
        .replace(",Nokey,3", f"{prefix}-5@example.com,Nokey,3")
        .replace("only-one-field", f"{prefix}-6@example.com,Six,6"),
        encoding="utf-8",
    )
    again = run_push("leads.rejects.csv", server=server, cwd=tmp_path)
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout == (
        "3 rows: 3 created, 0 updated, 0 failed, 0 retried\n"
        "Results: leads.rejects.results.csv\n"
        "Rejects: leads.rejects.rejects.csv (0 rows)\n"
    )
    assert emails_in_db(server, f"{prefix}-%") == {
        f"{prefix}-{i}@example.com": 1 for i in range(1, 7)
    }

    # The same file again updates what it created.
    third = run_push(
        "leads.csv", "--results", "second.csv", "--rejects", "r2.csv", server=server, cwd=tmp_path
    )
    assert third.stdout.splitlines()[0] == "6 rows: 0 created, 3 updated, 3 failed, 0 retried"


def test_unreachable_endpoint_stops_with_one_line(server: Server, tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", ["Email"], [["a@example.com"]])
    endpoint = f"http://127.0.0.1:{free_port()}/soap/mktows/2_2"
    done = run_push("a.csv", server=server, endpoint=endpoint, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"Error: cannot reach {endpoint}: Connection refused\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_bad_credentials_stop_with_one_line(server: Server, tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", ["Email"], [["a@example.com"]])
    done = subprocess.run(
        [
            *push_cmd(),
            "a.csv",
            "--endpoint",
            server.endpoint,
            "--user-id",
            server.user_id,
            "--encryption-key",
            "wrong-key",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"Error: {server.endpoint} refused the credentials (20014 - Authentication failed): "
        "check --user-id and --encryption-key\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_settings_from_the_environment(server: Server, tmp_path: Path, prefix: str) -> None:
    write_csv(tmp_path / "a.csv", ["Email"], [[f"{prefix}@example.com"]])
    missing = run_push("a.csv", cwd=tmp_path)
    assert missing.returncode == 2
    assert "Missing option '--endpoint' (or LEADSYNC_ENDPOINT)." in missing.stderr
    env = {
        "LEADSYNC_ENDPOINT": server.endpoint,
        "LEADSYNC_USER_ID": server.user_id,
        "LEADSYNC_ENCRYPTION_KEY": server.key,
    }
    done = run_push("a.csv", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 row: 1 created, 0 updated, 0 failed, 0 retried\n")


def test_dry_run_checks_and_sends_nothing(server: Server, tmp_path: Path, prefix: str) -> None:
    rows = [[f"{prefix}-{i}@example.com", str(i)] for i in range(650)] + [["", "1"]]
    write_csv(tmp_path / "a.csv", ["Email", "LeadScore"], rows)
    done = run_push("a.csv", "--dry-run", server=server, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "line 652: no key: the row needs Id, Email or ForeignSysPersonId\n"
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "Dry run: 651 rows read, 650 would be sent in 3 calls, 1 would fail. Nothing was sent."
    )
    assert lines[1:] in (
        [],
        [
            "Field names and values were not checked against the server: "
            "the server does not answer describeMObject."
        ],
    )
    assert emails_in_db(server, f"{prefix}-%") == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
    offline = run_push("a.csv", "--dry-run", "--batch-size", "100", cwd=tmp_path)
    assert offline.stdout.splitlines() == [
        "Dry run: 651 rows read, 650 would be sent in 7 calls, 1 would fail. Nothing was sent.",
        "Field names and values were not checked against the server: no --endpoint given.",
    ]


def test_stdin_gzip_map_and_delimiter(server: Server, tmp_path: Path, prefix: str) -> None:
    text = "".join(f"{prefix}-{i}@example.com;N{i};x\n" for i in range(20))
    piped = run_push(
        "-",
        "--delimiter",
        ";",
        "--map",
        "mail=Email",
        "--map",
        "junk=",
        server=server,
        cwd=tmp_path,
        stdin=("mail;FirstName;junk\n" + text).encode(),
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.splitlines() == [
        "20 rows: 20 created, 0 updated, 0 failed, 0 retried",
        "Results: push.results.csv",
        "Rejects: push.rejects.csv (0 rows)",
    ]
    archive = tmp_path / "more.csv.gz"
    archive.write_bytes(
        gzip.compress(("Email,LastName\n" + text.replace(";x", "").replace(";", ",")).encode())
    )
    zipped = run_push("more.csv.gz", server=server, cwd=tmp_path)
    assert zipped.returncode == 0, zipped.stderr
    assert zipped.stdout.splitlines()[0] == "20 rows: 0 created, 20 updated, 0 failed, 0 retried"
    assert (tmp_path / "more.results.csv").exists()


def test_unknown_column_fails_rows_until_mapped(
    server: Server, tmp_path: Path, prefix: str
) -> None:
    write_csv(tmp_path / "a.csv", ["Email", "Hobby"], [[f"{prefix}@example.com", "chess"]])
    done = run_push("a.csv", server=server, cwd=tmp_path)
    assert done.returncode == 1
    assert "Hobby" in done.stderr
    assert done.stdout.startswith("1 row: 0 created, 0 updated, 1 failed, 0 retried\n")
    dropped = run_push(
        "a.csv",
        "--map",
        "Hobby=",
        "--results",
        "r2.csv",
        "--rejects",
        "j2.csv",
        server=server,
        cwd=tmp_path,
    )
    assert dropped.returncode == 0, dropped.stderr


def test_retries_show_in_the_summary(server: Server, tmp_path: Path, prefix: str) -> None:
    rows = [[f"{prefix}-{i}@example.com"] for i in range(100)]
    write_csv(tmp_path / "a.csv", ["Email"], rows)
    with fault_proxy(server.base_url, ["fault:20023", "drop"]) as proxy:
        done = run_push(
            "a.csv",
            "--batch-size",
            "50",
            "--concurrency",
            "1",
            server=server,
            endpoint=proxy.endpoint(),
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "100 rows: 100 created, 0 updated, 0 failed, 50 retried"
    assert emails_in_db(server, f"{prefix}-%") == {
        f"{prefix}-{i}@example.com": 1 for i in range(100)
    }


def test_plain_progress_lines_when_not_on_a_terminal(
    server: Server, tmp_path: Path, prefix: str
) -> None:
    rows = [[f"{prefix}-{i}@example.com"] for i in range(3000)]
    write_csv(tmp_path / "a.csv", ["Email"], rows)
    with fault_proxy(server.base_url) as proxy:
        done = run_push(
            "a.csv",
            "--batch-size",
            "100",
            "--concurrency",
            "1",
            "--progress-interval",
            "0.1",
            server=server,
            endpoint=proxy.endpoint(),
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines, "expected progress lines"
    assert all(
        re.fullmatch(r"progress: [\d,]+ rows done, [\d,]+ rows/s, \d+% read", x) for x in lines
    )


# -- interrupted pushes ---------------------------------------------------------------------


def _journal_batches(path: Path) -> int:
    try:
        return path.read_text(encoding="utf-8").count('"t":"b"')
    except FileNotFoundError:
        return 0


def _start_held_push(
    server: Server, proxy: FaultProxy, tmp_path: Path, rows: int, answered: int, *flags: str
) -> subprocess.Popen[str]:
    """A push whose first ``answered`` calls go through and whose later calls hang."""
    proxy.add(["forward"] * answered + ["hold"] * 1000)
    process = subprocess.Popen(
        [
            *push_cmd(),
            "a.csv",
            "--batch-size",
            "100",
            "--concurrency",
            "2",
            "--rate-limit",
            "none",
            "--endpoint",
            proxy.endpoint(),
            "--user-id",
            server.user_id,
            "--encryption-key",
            server.key,
            *flags,
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    journal = tmp_path / "a.results.csv.journal"
    deadline = time.monotonic() + 60
    while _journal_batches(journal) < answered:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the push did not get going"
        time.sleep(0.02)
    time.sleep(0.2)  # let the next calls reach the proxy and hang there
    return process


def _assert_complete(tmp_path: Path, server: Server, prefix: str, rows: int) -> None:
    results = read_results(tmp_path / "a.results.csv")
    assert [int(r["line"]) for r in results] == list(range(2, rows + 2))
    assert {r["status"] for r in results} == {"CREATED"}
    assert emails_in_db(server, f"{prefix}-%") == {
        f"{prefix}-{i}@example.com": 1 for i in range(rows)
    }
    assert not (tmp_path / "a.results.csv.journal").exists()


def test_resume_after_the_push_was_killed(server: Server, tmp_path: Path, prefix: str) -> None:
    rows = 3000
    write_csv(
        tmp_path / "a.csv",
        ["Email", "FirstName"],
        [[f"{prefix}-{i}@example.com", "K"] for i in range(rows)],
    )
    with fault_proxy(server.base_url) as proxy:
        # Without dedup, anything sent twice would show as a duplicate lead.
        process = _start_held_push(server, proxy, tmp_path, rows, 10, "--no-dedup")
        process.send_signal(signal.SIGKILL)
        process.communicate()
        proxy.release()
    assert len(emails_in_db(server, f"{prefix}-%")) == 1000
    done = run_push("a.csv", "--resume", "--no-dedup", server=server, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == "Resumed: 1,000 rows already done."
    assert out[1] == "3,000 rows: 3,000 created, 0 updated, 0 failed, 0 retried"
    _assert_complete(tmp_path, server, prefix, rows)


def test_ctrl_c_stops_cleanly_and_resume_finishes(
    server: Server, tmp_path: Path, prefix: str
) -> None:
    rows = 3000
    write_csv(tmp_path / "a.csv", ["Email"], [[f"{prefix}-{i}@example.com"] for i in range(rows)])
    with fault_proxy(server.base_url) as proxy:
        process = _start_held_push(server, proxy, tmp_path, rows, 5)
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        proxy.script.clear()
        proxy.release()  # the held calls drop; dedup is on, so they are resent and land
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Stopping after the calls in flight" in stderr
    assert stderr.endswith(
        "Interrupted: run the same command with --resume to push the remaining rows.\n"
    )
    assert "Traceback" not in stderr
    done_before = int(stdout.splitlines()[0].split(" ")[0].replace(",", ""))
    assert 500 <= done_before < rows
    refused = run_push("a.csv", server=server, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "Error: an unfinished push left a.results.csv.journal: add --resume to continue it, "
        "or delete it to start over\n"
    )
    done = run_push("a.csv", "--resume", server=server, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        r"3,000 rows: 3,000 created, 0 updated, 0 failed, [\d,]+ retried",
        done.stdout.splitlines()[1],
    )
    _assert_complete(tmp_path, server, prefix, rows)
