"""The upstream's faults, through its own fault rules (docs/testing.md): the bridge retries
what Marketo calls transient, re-authenticates on 601/602, turns 607 and an exhausted wait
into the SOAP faults a legacy client retries on, and never writes a record twice.

Every acknowledged SOAP record (CREATED or UPDATED) is found upstream exactly once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridgekit import bridge_settings, journal

from inprocess import AppServer, serving_app
from leadsync.testing import LeadsyncServer
from support import Status, fault, free_port, lead_record, statuses, sync_params

_n = itertools.count()


def emails(count: int) -> list[str]:
    return [f"fault-{next(_n)}@example.com" for _ in range(count)]


def sync(bridge: AppServer, addresses: list[str], dedup: str = "true") -> list[Status]:
    params = sync_params([lead_record(a) for a in addresses], dedup)
    return statuses(bridge.call("syncMultipleLeads", params))


def once_each(upstream: LeadsyncServer, addresses: list[str]) -> None:
    for address in addresses:
        assert len(upstream.leads(address)) == 1, address


def journal_codes(bridge: AppServer) -> str:
    return journal(bridge)[-1].upstream_codes


@pytest.mark.parametrize("code", ["601", "602"])
def test_a_refused_token_is_renewed_and_the_call_sent_again(
    bridge: AppServer, upstream: LeadsyncServer, code: str
) -> None:
    sync(bridge, emails(1))
    upstream.inject(f"op=syncLeads,code={code},times=1")
    sent = emails(3)
    assert [s.status for s in sync(bridge, sent)] == ["CREATED"] * 3
    once_each(upstream, sent)
    assert code in journal_codes(bridge).split(",")


@pytest.mark.parametrize("code", ["606", "615", "604", "608", "611", "713"])
def test_transient_codes_are_retried_with_backoff(
    bridge: AppServer, upstream: LeadsyncServer, code: str
) -> None:
    upstream.inject(f"op=syncLeads,code={code},times=3")
    sent = emails(2)
    assert [s.status for s in sync(bridge, sent)] == ["CREATED"] * 2
    once_each(upstream, sent)
    assert [rule["fired"] for rule in upstream.faults()] == [3]


def test_a_503_is_retried(bridge: AppServer, upstream: LeadsyncServer) -> None:
    upstream.inject("op=syncLeads,status=503,times=2")
    sent = emails(2)
    assert [s.status for s in sync(bridge, sent)] == ["CREATED"] * 2
    once_each(upstream, sent)


def test_607_is_20015_at_once(bridge: AppServer, upstream: LeadsyncServer) -> None:
    upstream.inject("op=syncLeads,code=607")
    assert fault(bridge.call("syncMultipleLeads", sync_params([lead_record("q@x.com")]))).code == (
        20015
    )
    assert upstream.leads() == []
    [entry] = journal(bridge)
    assert (entry.fault_code, entry.upstream_codes) == (20015, "607")


@pytest.mark.parametrize(("code", "soap"), [("606", 20023), ("615", 20024)])
def test_an_exhausted_wait_is_20023_or_20024(
    upstream: LeadsyncServer, tmp_path: Path, code: str, soap: int
) -> None:
    with serving_app(tmp_path, **bridge_settings(upstream, upstream_wait_seconds=1)) as bridge:
        sync(bridge, emails(1))
        upstream.inject(f"op=syncLeads,code={code}")
        response = bridge.call("syncMultipleLeads", sync_params([lead_record("w@x.com")]))
    assert fault(response).code == soap
    assert upstream.leads("w@x.com") == []


def test_a_dropped_answer_is_sent_again_only_when_matched_by_key(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    upstream.inject("op=syncLeads,drop=after,times=1")
    sent = emails(2)
    got = sync(bridge, sent)
    # The lost call created them; sent again, it found them.
    assert [s.status for s in got] == ["UPDATED"] * 2
    once_each(upstream, sent)
    assert "lost" in journal_codes(bridge).split(",")


def test_a_dropped_create_duplicate_is_never_sent_again(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    upstream.inject("op=syncLeads,drop=after,times=1")
    sent = emails(2)
    got = sync(bridge, sent, dedup="false")
    assert [s.status for s in got] == ["FAILED"] * 2
    assert all(s.error is not None and "never sent again" in s.error for s in got)
    once_each(upstream, sent)


def test_a_slow_upstream_times_out_and_is_rechecked(
    upstream: LeadsyncServer, tmp_path: Path
) -> None:
    settings = bridge_settings(upstream, upstream_timeout_seconds=1)
    with serving_app(tmp_path, **settings) as bridge:
        sync(bridge, emails(1))
        upstream.inject("op=syncLeads,delay=1.5,times=1")
        sent = emails(2)
        got = sync(bridge, sent)
        assert [s.status for s in got] == ["UPDATED"] * 2
        once_each(upstream, sent)
        assert "lost" in journal_codes(bridge).split(",")


def test_an_unreachable_upstream_is_20011_with_an_error_id(
    upstream: LeadsyncServer, tmp_path: Path
) -> None:
    settings = bridge_settings(
        upstream, upstream_url=f"http://127.0.0.1:{free_port()}", upstream_wait_seconds=1
    )
    with serving_app(tmp_path, **settings) as bridge:
        response = bridge.call("syncMultipleLeads", sync_params([lead_record("u@x.com")]))
        log = bridge.log()
    refused = fault(response)
    assert refused.code == 20011
    error_id = refused.message.split("error id ")[1].split()[0]
    assert f"error id={error_id}" in log
    assert upstream.leads() == []


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[LeadsyncServer]:
    from leadsync.testing import start_server

    started = start_server(tmp_path / "restartable")
    try:
        yield started
    finally:
        started.stop()


def _restart(server: LeadsyncServer) -> None:
    """Stop ``server`` and start it again on the same port and database."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    server.stop()
    port = server.base_url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSYNC_")}
    env["LEADSYNC_ADMIN_TOKEN"] = server.admin_token
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "leadsync.cli", "serve", "--host", "127.0.0.1"),
                *("--port", port, "--database", server.database_url),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(server.base_url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(server.log())


def test_an_upstream_restarted_mid_load_loses_and_duplicates_nothing(
    restartable: LeadsyncServer, tmp_path: Path
) -> None:
    import threading

    settings = bridge_settings(restartable, upstream_wait_seconds=3)
    acknowledged: list[str] = []
    faults: list[int] = []
    stop = threading.Event()
    with serving_app(tmp_path, **settings) as bridge:

        def load() -> None:
            while not stop.is_set():
                batch = emails(5)
                response = bridge.call(
                    "syncMultipleLeads", sync_params([lead_record(a) for a in batch])
                )
                if response.status_code != 200:
                    faults.append(fault(response).code)
                    continue
                for address, status in zip(batch, statuses(response), strict=True):
                    if status.status in ("CREATED", "UPDATED"):
                        acknowledged.append(address)

        worker = threading.Thread(target=load)
        worker.start()
        try:
            while len(acknowledged) < 20:
                threading.Event().wait(0.05)
            _restart(restartable)
            before = len(acknowledged)
            while len(acknowledged) < before + 20:
                threading.Event().wait(0.05)
        finally:
            stop.set()
            worker.join(30)
    assert set(faults) <= {20011}
    stored = restartable.leads()
    addresses = [lead["email"] for lead in stored]
    assert len(addresses) == len(set(addresses))
    assert set(acknowledged) <= set(addresses)
