"""A PostgreSQL outage: calls fail fast with 20011, /readyz says so, and the first call after
the database returns succeeds. The cluster is this test's own (initdb into a temporary
folder, on a free port), never the shared one."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support import Server, fault, free_port, running_server

WAIT = 2  # database_wait_seconds
MARGIN = 3.0


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL's server programs are not installed (/usr/lib/postgresql)")
    return found[-1].parent


@dataclass
class Cluster:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        _as_postgres(
            str(_bin() / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "postgres.log"),
            "-w",
            *args,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("-o", options, "start")

    def stop(self) -> None:
        self.ctl("-m", "immediate", "stop")


def _as_postgres(*command: str) -> None:
    # initdb and the server refuse to run as root.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)


@contextmanager
def own_cluster() -> Iterator[Cluster]:
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="leadsync-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(folder, free_port())
    try:
        _as_postgres(
            str(_bin() / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres"
        )
        cluster.start()
        yield cluster
    finally:
        if _running(cluster):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _running(cluster: Cluster) -> bool:
    return (cluster.folder / "data" / "postmaster.pid").exists()


def _get_lead(server: Server) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = server.call(
        "getLead", "<leadKey><keyType>EMAIL</keyType><keyValue>x@y.com</keyValue></leadKey>"
    )
    return time.monotonic() - started, response


def _ready(server: Server) -> tuple[float, int]:
    started = time.monotonic()
    status = httpx.get(server.base_url + "/readyz", timeout=30).status_code
    return time.monotonic() - started, status


def test_an_outage_fails_fast_and_recovery_is_immediate(tmp_path: Path) -> None:
    with (
        own_cluster() as cluster,
        running_server(tmp_path, database_url=cluster.url) as server,
    ):
        took, response = _get_lead(server)
        assert fault(response).code == 20103  # no such lead: the database answered
        assert _ready(server)[1] == 200

        cluster.stop()
        took, response = _get_lead(server)
        got = fault(response)
        assert got.code == 20011
        assert "error id" in got.message
        assert took < WAIT + MARGIN
        took, status = _ready(server)
        assert status == 503
        assert took < WAIT + MARGIN
        assert httpx.get(server.base_url + "/healthz").status_code == 200

        cluster.start()
        took, response = _get_lead(server)
        assert fault(response).code == 20103
        assert took < MARGIN
        assert _ready(server)[1] == 200
        assert "Traceback" not in server.log()
