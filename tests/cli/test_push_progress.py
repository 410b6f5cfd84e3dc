"""Honest progress: a push held back by its call budget says so, and a loopback endpoint
earns one note that ``--rate-limit none`` exists."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.test_push import push_cmd, write_csv
from support import Server, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("progress-server")) as srv:
        yield srv


def test_waiting_on_the_rate_limit_shows_in_the_progress(server: Server, tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", ["Email"], [[f"w{i}@example.com"] for i in range(400)])
    done = subprocess.run(
        [
            *push_cmd(),
            "a.csv",
            *("--endpoint", server.endpoint, "--user-id", server.user_id),
            *("--encryption-key", server.key),
            *("--batch-size", "100", "--concurrency", "1"),
            *("--rate-limit", "2/2", "--progress-interval", "0.1"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    notes = [line for line in lines if line.startswith("note: ")]
    assert notes == [
        f"note: {server.endpoint} is on this host: the call budget 2/2s is Marketo's;"
        " --rate-limit none pushes without it"
    ]
    waiting = [line for line in lines if ", waiting: rate limit 2/2s, " in line]
    assert waiting, done.stderr
    assert all(line.startswith("progress: ") and line.endswith(" s") for line in waiting)
