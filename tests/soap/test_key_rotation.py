"""Key rotation: the old key keeps signing calls until its grace period ends (store and
authentication on every backend; the commands end to end against a real server)."""

from __future__ import annotations

import os
import pty
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from click.testing import CliRunner

from leadsync.cli import main
from leadsync.errors import AuthenticationFailed
from leadsync.mktows.signing import sign, timestamp
from leadsync.soap.auth import Credentials, authenticate
from leadsync.store import Store, open_store
from support import (
    envelope,
    fault,
    lead_record,
    leadsync_cmd,
    running_server,
    statuses,
    sync_params,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _signed(user: str, key: str, at: datetime) -> Credentials:
    stamp = timestamp(at)
    return Credentials(user, sign(key, stamp, user), stamp)


def _accepts(store: Store, key: str, at: datetime) -> bool:
    try:
        authenticate(_signed("alice", key, at), store.get_user, window_seconds=900, now=at)
    except AuthenticationFailed:
        return False
    return True


def test_the_old_key_works_until_the_grace_period_ends(store: Store) -> None:
    store.add_user("alice", "old-key")
    rotated = store.rotate_key("alice", "new-key", NOW + timedelta(minutes=30))
    assert rotated is not None
    assert (rotated.encryption_key, rotated.previous_key) == ("new-key", "old-key")
    assert rotated.previous_key_until == NOW + timedelta(minutes=30)
    assert store.get_user("alice") == rotated
    assert _accepts(store, "new-key", NOW)
    assert _accepts(store, "old-key", NOW + timedelta(minutes=29))
    assert not _accepts(store, "old-key", NOW + timedelta(minutes=30))
    assert _accepts(store, "new-key", NOW + timedelta(minutes=30))
    assert not _accepts(store, "other-key", NOW)


def test_rotating_again_forgets_the_oldest_key(store: Store) -> None:
    store.add_user("alice", "first")
    store.rotate_key("alice", "second", NOW + timedelta(minutes=30))
    store.rotate_key("alice", "third", NOW + timedelta(minutes=30))
    assert _accepts(store, "second", NOW)
    assert not _accepts(store, "first", NOW)


def test_no_grace_refuses_the_old_key_at_once(store: Store) -> None:
    store.add_user("alice", "old-key")
    rotated = store.rotate_key("alice", "new-key", None)
    assert rotated is not None
    assert (rotated.previous_key, rotated.previous_key_until) == (None, None)
    assert not _accepts(store, "old-key", NOW)
    assert store.rotate_key("nobody", "k", None) is None


def test_rotate_key_and_show_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["users", "add", "bob", "--encryption-key", "k1", "--database", db]
        ).exit_code
        == 0
    )
    done = runner.invoke(main, ["users", "rotate-key", "bob", "--database", db])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0] == "user id:        bob"
    new_key = lines[1].split()[-1]
    assert len(new_key) == 40
    assert lines[2].startswith("old key:        accepted until 20")
    # Not a terminal (a pipe, a script): no question asked.
    shown = runner.invoke(main, ["users", "show", "bob", "--database", db])
    assert (shown.exit_code, shown.stdout.splitlines()[:2]) == (
        0,
        ["user id:        bob", f"encryption key: {new_key}"],
    )
    given = runner.invoke(
        main,
        ["users", "rotate-key", "bob", "--encryption-key", "k3", "--grace", "0", "--database", db],
    )
    assert given.stdout == (
        "user id:        bob\nencryption key: k3\nold key:        refused from now on\n"
    )
    missing = runner.invoke(main, ["users", "show", "carol", "--database", db])
    assert (missing.exit_code, missing.stderr) == (1, "Error: no API user 'carol'\n")
    missing = runner.invoke(main, ["users", "rotate-key", "carol", "--database", db])
    assert (missing.exit_code, missing.stderr) == (1, "Error: no API user 'carol'\n")


def _show_on_a_terminal(db: str, answer: bytes) -> tuple[int, str]:
    """``users show`` with its output on a pseudo-terminal, answering its question."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*leadsync_cmd(), "users", "show", "bob", "--database", db],
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    os.write(leader, answer)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=60), output.decode()


def test_show_asks_first_on_a_terminal(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    store = open_store(db)
    try:
        store.add_user("bob", "secret-key")
    finally:
        store.close()
    code, output = _show_on_a_terminal(db, b"n\n")
    assert code == 1
    assert "Show the encryption key of bob on this terminal?" in output
    assert "nothing was shown" in output
    assert "secret-key" not in output
    code, output = _show_on_a_terminal(db, b"y\n")
    assert code == 0
    assert "encryption key: secret-key" in output


def test_a_real_server_takes_both_keys_during_the_grace_period(tmp_path: Path) -> None:
    with running_server(tmp_path) as srv:

        def sync(key: str, email: str) -> httpx.Response:
            params = sync_params([lead_record(email)])
            return srv.post(envelope("syncMultipleLeads", params, srv.user_id, key))

        rotate = ["users", "rotate-key", srv.user_id, "--database", srv.database_url]
        done = CliRunner().invoke(main, rotate)
        new_key = done.stdout.splitlines()[1].split()[-1]
        assert [s.status for s in statuses(sync(srv.key, "old@x.com"))] == ["CREATED"]
        assert [s.status for s in statuses(sync(new_key, "new@x.com"))] == ["CREATED"]
        assert CliRunner().invoke(main, [*rotate, "--grace", "0"]).exit_code == 0
        assert fault(sync(new_key, "late@x.com")).code == 20014
