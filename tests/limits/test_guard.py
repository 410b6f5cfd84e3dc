"""The guard in-process, on SQLite, with its clock and its HTTP ticket driven by the test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from leadsync.errors import RequestExpired, RequestLimitExceeded
from leadsync.limits.faults import parse_rule
from leadsync.limits.guard import Guard, WithheldCall
from leadsync.limits.policy import DayClock
from leadsync.limits.ticket import CURRENT, CallTicket
from leadsync.store import Store, open_store
from leadsync.store.control import LimitValues

NOW = 1_800_000_000.0
OFF = LimitValues(0, 0, 20_000, 0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'guard.db'}")
    opened.add_user("u", "k")
    try:
        yield opened
    finally:
        opened.close()


def make_guard(store: Store, defaults: LimitValues = OFF) -> Guard:
    return Guard(
        store.limits(),
        store.faults(),
        defaults=defaults,
        days=DayClock(ZoneInfo("America/Chicago")),
        lease_seconds=60,
        clock=lambda: NOW,
    )


def in_flight(store: Store) -> int:
    rows = store.limits().usage("u", now_ms=int(NOW * 1000), day=0, window_ms=1)
    return rows[0].in_flight if rows else 0


@pytest.fixture
def ticket() -> Iterator[CallTicket]:
    fresh = CallTicket()
    token = CURRENT.set(fresh)
    try:
        yield fresh
    finally:
        CURRENT.reset(token)


def today(store: Store) -> tuple[int, int, dict[int, int]]:
    day = DayClock(ZoneInfo("America/Chicago")).day(NOW)
    rows = store.limits().usage("u", now_ms=int(NOW * 1000), day=day, window_ms=1)
    return (rows[0].day_calls, rows[0].records, dict(rows[0].rejects)) if rows else (0, 0, {})


def test_nobody_limited_means_nothing_checked_but_usage_counted(store: Store) -> None:
    guard = make_guard(store)
    with guard.admit("u", "syncMultipleLeads") as admitted:
        admitted.records = 300
    with guard.admit("u", "getLead") as admitted:
        admitted.records = 1
    assert store.limits().leases() == []
    assert store.limits().overrides("u") == LimitValues()
    assert today(store) == (2, 301, {20015: 0, 20023: 0, 20024: 0})


def test_refusals_count_as_rejects_not_calls(store: Store) -> None:
    guard = make_guard(store, LimitValues(1, 0, 20_000, 0))
    with guard.admit("u", "getLead"):
        pass
    with pytest.raises(RequestLimitExceeded), guard.admit("u", "getLead"):
        pytest.fail("a refused call must not run")
    assert today(store) == (1, 0, {20015: 1, 20023: 0, 20024: 0})


def test_leases_of_dead_processes_are_reaped_when_a_server_starts(
    store: Store, tmp_path: Path
) -> None:
    concurrency = LimitValues(0, 0, 20_000, 1)
    first = make_guard(store, concurrency)
    admitted = first.enter("u", "getLead")
    assert len(store.limits().leases()) == 1
    # The process that took it lives on: a new guard keeps its lease.
    assert make_guard(store, concurrency).reap_dead() == 0
    # Once it is known dead, the next guard to start takes the slot back.
    dead = Guard(
        store.limits(),
        None,
        defaults=concurrency,
        days=DayClock(ZoneInfo("America/Chicago")),
        lease_seconds=60,
        clock=lambda: NOW,
        dead=lambda owner: True,
    )
    assert dead.reap_dead() == 1
    assert store.limits().leases() == []
    first.leave(admitted)  # its release finds nothing: harmless


def test_a_users_new_limits_are_read_within_the_ttl_or_when_told(store: Store) -> None:
    guard = make_guard(store)
    with guard.admit("u", "getLead"):
        pass
    store.limits().update_limits("u", {"daily_quota": 1})
    with guard.admit("u", "getLead"):
        pass  # still the list read a moment ago: not counted
    guard.limits_changed()
    with guard.admit("u", "getLead"):
        pass
    with pytest.raises(RequestLimitExceeded), guard.admit("u", "getLead"):
        pass


def test_the_lease_is_released_when_the_handler_ends_even_by_an_error(store: Store) -> None:
    guard = make_guard(store, LimitValues(0, 0, 20_000, 1))
    with guard.admit("u", "getLead"):
        assert in_flight(store) == 1
    assert in_flight(store) == 0
    with pytest.raises(ZeroDivisionError), guard.admit("u", "getLead"):
        _ = 1 / 0
    assert in_flight(store) == 0


def test_a_delayed_call_keeps_its_slot_until_the_http_layer_answers(
    store: Store, ticket: CallTicket
) -> None:
    guard = make_guard(store, LimitValues(0, 0, 20_000, 1))
    store.faults().add([parse_rule("delay=2", seed="s")])
    with guard.admit("u", "getLead"):
        pass
    assert ticket.delay == 2.0
    assert in_flight(store) == 1
    assert ticket.release is not None
    ticket.release()
    assert in_flight(store) == 0


def test_drop_and_status_are_left_to_the_http_layer(store: Store, ticket: CallTicket) -> None:
    guard = make_guard(store)
    store.faults().add([parse_rule("drop,times=1", seed="s")])
    store.faults().add([parse_rule("status=503,times=1", seed="s")])
    store.faults().add([parse_rule("drop=after,times=1", seed="s")])
    with pytest.raises(WithheldCall), guard.admit("u", "getLead"):
        pytest.fail("a dropped call must not run")
    assert (ticket.drop, ticket.status) == (True, None)
    ticket.drop = False
    with pytest.raises(WithheldCall), guard.admit("u", "getLead"):
        pytest.fail("a call answered with a status must not run")
    assert ticket.status == 503
    ticket.status = None
    ran = []
    with guard.admit("u", "getLead"):
        ran.append(True)
    assert ran == [True]
    assert ticket.drop is True


def test_without_an_http_layer_the_guard_does_what_it_can(store: Store) -> None:
    guard = make_guard(store)
    store.faults().add([parse_rule("delay=50ms,code=20016,times=1", seed="s")])
    store.faults().add([parse_rule("status=503,times=1", seed="s")])
    started = time.monotonic()
    with pytest.raises(RequestExpired), guard.admit("u", "getLead"):
        pass
    assert time.monotonic() - started >= 0.05
    with pytest.raises(WithheldCall) as caught, guard.admit("u", "getLead"):
        pass
    assert caught.value.code == 20011
