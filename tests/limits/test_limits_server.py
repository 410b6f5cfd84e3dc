"""Daily quota, rate and concurrency limits over the wire: codes, fault shape, exact counts
under concurrency with one and with several worker processes, and refused calls write
nothing."""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from pathlib import Path

import httpx
from limits_wire import (
    TOKEN,
    admin_json,
    counts,
    outcome,
    outcomes_in_parallel,
    set_user_limits,
    sync_one,
    usage,
)

from inprocess import serving_app
from leadsync.clock import SettableClock
from leadsync.limits.guard import LIMITED_USERS_TTL_S
from support import Server, cli, count_leads, fault, running_server


def test_daily_quota_refuses_with_20015_and_writes_nothing(tmp_path: Path) -> None:
    with serving_app(tmp_path, daily_quota=3) as srv:
        assert [outcome(sync_one(srv)) for _ in range(3)] == [0, 0, 0]
        refused = sync_one(srv, "over-quota@x.com")
    # Once the server has stopped: a running one writes usage counts every half second.
    shown = cli("users", "usage", "--database", srv.database_url, env={})
    answer = fault(refused)
    assert (answer.code, answer.faultcode, answer.name) == (
        20015,
        "SOAP-ENV:Client",
        "mktServiceException",
    )
    assert answer.faultstring == "20015 - Request Limit Exceeded"
    assert answer.message.endswith(" (20015)")
    assert "midnight America/Chicago" in answer.message
    assert count_leads(srv.database_url) == 3
    assert shown.returncode == 0, shown.stderr
    # The CLI does not know the server's flags, but it counts what the server counted.
    assert "calls today:      3 (no limit)" in shown.stdout
    assert "rejects today:    20015: 1  20023: 0  20024: 0" in shown.stdout


def test_rate_limit_refuses_with_20023(tmp_path: Path) -> None:
    with serving_app(tmp_path, rate_limit="3/30s") as srv:
        results = [outcome(sync_one(srv)) for _ in range(5)]
        refused = fault(sync_one(srv))
    assert results == [0, 0, 0, 20023, 20023]
    assert (refused.faultcode, refused.faultstring) == (
        "SOAP-ENV:Server",
        "20023 - Rate Limit Exceeded",
    )
    assert "more than 3 calls in 30 s" in refused.message
    assert count_leads(srv.database_url) == 3


def test_concurrency_limit_counts_slow_calls_until_they_answer(tmp_path: Path) -> None:
    # Every call takes 0.6 s: the first two hold both slots while the others arrive.
    with serving_app(tmp_path, concurrency_limit=2, inject="delay=0.6", admin_token=TOKEN) as srv:
        results = outcomes_in_parallel(srv, 6, threads=6)
        after = usage(srv)
        assert outcome(sync_one(srv)) == 0  # slots are free once the answers are out
    assert counts(results) == {0: 2, 20024: 4}
    assert (after["in_flight"], after["calls_today"], after["rejects"]["20024"]) == (0, 2, 4)
    assert count_leads(srv.database_url) == 3


def test_user_limits_set_while_the_server_runs_apply_within_a_second(tmp_path: Path) -> None:
    # The CLI writes the change as another process would; the server reads it again once
    # its copy is LIMITED_USERS_TTL_S old, by its own clock.
    clock = SettableClock()
    with serving_app(tmp_path, clock=clock) as srv:
        user = srv.store.list_users()[0].user_id
        assert outcome(sync_one(srv)) == 0
        set_user_limits(srv.database_url, user, "--daily-quota", "2")
        assert outcome(sync_one(srv)) == 0  # not seen yet: no limit applies to this call
        clock.advance(seconds=LIMITED_USERS_TTL_S)
        assert [outcome(sync_one(srv)) for _ in range(3)] == [0, 0, 20015]
        # A limited user's own limits are read on each of its calls: lifting one is seen
        # at once.
        set_user_limits(srv.database_url, user, "--daily-quota", "default")
        assert outcome(sync_one(srv)) == 0


def test_marketo_limits_apply_marketos_values(tmp_path: Path) -> None:
    with serving_app(tmp_path, marketo_limits=True, daily_quota=20000, admin_token=TOKEN) as srv:
        assert outcome(sync_one(srv)) == 0
        row = usage(srv)
    assert row["limits"] == {
        "daily_quota": 20_000,
        "rate_calls": 100,
        "rate_window_ms": 20_000,
        "concurrency": 10,
    }
    assert (row["calls_today"], row["calls_in_window"], row["in_flight"]) == (1, 1, 0)


def test_limits_hold_exactly_across_worker_processes(tmp_path: Path, database_url: str) -> None:
    users = [("quota", "kq"), ("rate", "kr"), ("conc", "kc")]
    flags = ("--workers", "2", "--admin-token", TOKEN, "--inject", "user=conc,delay=0.5")
    with running_server(tmp_path, *flags, database_url=database_url, users=users) as srv:
        admin_json(srv, "PUT", "/users/quota/limits", {"daily_quota": 30})
        admin_json(srv, "PUT", "/users/rate/limits", {"rate": "10/60s"})
        admin_json(srv, "PUT", "/users/conc/limits", {"concurrency": 3})
        time.sleep(LIMITED_USERS_TTL_S)  # the worker that did not answer the PUT
        quota = outcomes_in_parallel(srv, 50, user="quota", key="kq")
        rate = outcomes_in_parallel(srv, 25, user="rate", key="kr")
        conc = outcomes_in_parallel(srv, 12, threads=12, user="conc", key="kc")
        rows = {name: usage(srv, name) for name, _ in users}
    assert counts(quota) == {0: 30, 20015: 20}
    assert counts(rate) == {0: 10, 20023: 15}
    assert counts(conc) == {0: 3, 20024: 9}
    assert (rows["quota"]["calls_today"], rows["quota"]["rejects"]["20015"]) == (30, 20)
    assert (rows["rate"]["calls_in_window"], rows["rate"]["rejects"]["20023"]) == (10, 15)
    assert (rows["conc"]["in_flight"], rows["conc"]["rejects"]["20024"]) == (0, 9)
    # Every admitted call wrote its lead; no refused call wrote anything.
    assert count_leads(srv.database_url) == 30 + 10 + 3


def _slow_call_in_flight(srv: Server) -> None:
    """Start a call that the server's ``delay=30`` rule holds, and wait until it is held."""
    threading.Thread(target=_ignore_errors, args=(srv,), daemon=True).start()
    deadline = time.monotonic() + 10
    while "fault rules fired" not in srv.log() and time.monotonic() < deadline:
        time.sleep(0.05)


def _in_flight(database_url: str) -> str:
    shown = cli("users", "usage", "--database", database_url)
    assert shown.returncode == 0, shown.stderr
    line = next(line for line in shown.stdout.splitlines() if "in flight" in line)
    return line.split(":")[1].split()[0]


def test_leases_of_a_killed_server_come_back_at_once_and_a_live_ones_never(
    tmp_path: Path, database_url: str
) -> None:
    slow = ("--concurrency", "1", "--inject", "delay=30")
    with running_server(tmp_path, *slow, database_url=database_url) as first:
        _slow_call_in_flight(first)
        with running_server(
            tmp_path, "--concurrency", "1", database_url=database_url, users=()
        ) as second:
            # Another process's call in flight holds the one slot, however old it gets.
            assert outcome(sync_one(second)) == 20024
            first.process.kill()  # mid-call: it never gives its slot back itself
            first.process.wait()
            # The next call that needs the slot finds its holder dead: no lease_seconds wait.
            assert outcome(sync_one(second)) == 0
    with running_server(tmp_path, *slow, database_url=database_url, users=()) as crashed:
        _slow_call_in_flight(crashed)
        crashed.process.kill()
        crashed.process.wait()
    assert _in_flight(database_url) == "1"
    with running_server(
        tmp_path, "--concurrency", "1", database_url=database_url, users=()
    ) as restarted:
        # Reaped as the server started, before any call needed the slot.
        assert _in_flight(database_url) == "0"
        assert outcome(sync_one(restarted)) == 0


def _ignore_errors(srv: Server) -> None:
    with suppress(httpx.HTTPError):
        sync_one(srv)
