"""The limit and fault-rule contract of every backend, with the clock driven by the test."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

import pytest

from leadsync.limits.admission import Verdict, decide
from leadsync.model import FieldDef, FieldType, Lead
from leadsync.store import Store
from leadsync.store.control import (
    FaultRule,
    Lease,
    LimitValues,
    UnknownUser,
    UsageCount,
)

DAY = 20260115
T0 = 1_768_000_000_000
OFF = LimitValues(0, 0, 20_000, 0)
LIVE = "host|boot|1|1"
DEAD = "host|boot|2|1"
_leases = iter(range(1_000_000))


def admit(
    store: Store,
    user: str = "u",
    *,
    at: int = T0,
    day: int = DAY,
    defaults: LimitValues = OFF,
    lease_ms: int = 60_000,
    owner: str = LIVE,
) -> tuple[Verdict, str]:
    """One admission as the guard makes it, with the clock and the dead processes given."""
    lease = Lease(f"lease-{next(_leases)}", owner, at + lease_ms)
    verdict = store.limits().admit(
        user,
        partial(
            decide, now_ms=at, day=day, defaults=defaults, lease=lease, dead=lambda o: o == DEAD
        ),
    )
    return verdict, lease.lease_id


def codes(store: Store, count: int, **kw: object) -> list[int]:
    return [admit(store, **kw)[0].code for _ in range(count)]  # type: ignore[arg-type]


@pytest.fixture
def user(store: Store) -> str:
    store.add_user("u", "k")
    return "u"


def test_overrides_are_set_cleared_and_need_a_user(store: Store, user: str) -> None:
    limits = store.limits()
    assert limits.overrides(user) == LimitValues()
    own = limits.update_limits(user, {"daily_quota": 5, "rate_calls": 3, "rate_window_ms": 1000})
    assert own == LimitValues(5, 3, 1000, None)
    assert limits.update_limits(user, {"daily_quota": None, "concurrency": 0}) == LimitValues(
        None, 3, 1000, 0
    )
    assert limits.overrides(user) == LimitValues(None, 3, 1000, 0)
    assert limits.limited_users() == {user}
    limits.update_limits(user, {"rate_calls": 0})
    assert limits.limited_users() == frozenset()
    with pytest.raises(UnknownUser):
        limits.update_limits("nobody", {"daily_quota": 1})


def test_daily_quota_counts_exactly_and_resets_with_the_day(store: Store, user: str) -> None:
    server = LimitValues(3, 0, 20_000, 0)
    assert codes(store, 5, defaults=server) == [0, 0, 0, 20015, 20015]
    # The next day in the quota's time zone starts from nothing.
    assert codes(store, 4, defaults=server, day=DAY + 1) == [0, 0, 0, 20015]
    assert admit(store, defaults=server, day=DAY + 1)[0].day_calls == 3


def test_rate_limit_is_a_sliding_window(store: Store, user: str) -> None:
    server = LimitValues(0, 3, 1000, 0)
    results = [admit(store, at=T0 + t, defaults=server)[0].code for t in (0, 100, 200, 300, 999)]
    assert results == [0, 0, 0, 20023, 20023]
    # The first call leaves the window at T0 + 1000, so one more fits, and no second one.
    assert [admit(store, at=T0 + t, defaults=server)[0].code for t in (1000, 1001)] == [0, 20023]
    refused, _ = admit(store, at=T0 + 1050, defaults=server)
    assert refused.code == 20023
    assert refused.retry_at_ms == T0 + 1100  # when the call made at T0 + 100 leaves
    # A rejected call does not count: after a quiet window every slot is free again.
    assert codes(store, 4, at=T0 + 5000, defaults=server) == [0, 0, 0, 20023]


def in_flight(store: Store, user: str = "u") -> int:
    [row] = store.limits().usage(user, now_ms=T0, day=DAY, window_ms=20_000)
    return row.in_flight


def test_concurrency_leases_are_released_and_expired_ones_reaped(store: Store, user: str) -> None:
    server = LimitValues(0, 0, 20_000, 2)
    first, lease1 = admit(store, defaults=server, lease_ms=10_000)
    second, lease2 = admit(store, defaults=server, lease_ms=10_000)
    assert (first.in_flight, second.in_flight) == (1, 2)
    assert admit(store, defaults=server)[0].code == 20024
    store.limits().release(lease1)
    store.limits().release(lease1)  # twice is harmless
    third, _lease3 = admit(store, defaults=server, lease_ms=10_000)
    assert (third.code, third.in_flight) == (0, 2)
    # Their process died on another host: once expired, the next call takes their slots back.
    assert admit(store, at=T0 + 9_999, defaults=server)[0].code == 20024
    later, _ = admit(store, at=T0 + 10_000, defaults=server)
    assert (later.code, later.in_flight) == (0, 1)
    store.limits().release(lease2)  # reaped already: nothing to give back
    assert in_flight(store) == 1


def test_leases_of_a_dead_process_are_reaped_at_once_and_live_ones_never(
    store: Store, user: str
) -> None:
    server = LimitValues(0, 0, 20_000, 2)
    admit(store, defaults=server, owner=DEAD)
    admit(store, defaults=server, owner=DEAD)
    # Far from expiry, the dead process's slots are taken back by the call that needs one.
    taken, _ = admit(store, defaults=server)
    assert (taken.code, taken.in_flight) == (0, 1)
    assert [lease.owner for lease in store.limits().leases()] == [LIVE]
    admit(store, defaults=server)
    assert admit(store, at=T0 + 59_999, defaults=server)[0].code == 20024
    assert in_flight(store) == 2
    # A sweep by lease id (the start-up sweep) leaves the others alone.
    [kept, gone] = store.limits().leases()
    assert store.limits().reap([gone.lease_id, "no-such-lease"]) == 1
    assert store.limits().leases() == [kept]


def test_concurrent_admissions_never_hand_out_a_slot_twice(store: Store, user: str) -> None:
    server = LimitValues(0, 0, 20_000, 3)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: admit(store, defaults=server)[0].code, range(40)))
    assert (results.count(0), results.count(20024)) == (3, 37)
    assert in_flight(store) == 3


def test_counting_a_calls_usage_can_end_its_lease(store: Store, user: str) -> None:
    server = LimitValues(0, 0, 20_000, 1)
    _, lease = admit(store, defaults=server)
    store.limits().count_usage(UsageCount(user, DAY, calls=1, records=3), release=lease)
    store.limits().count_usage(UsageCount(user, DAY, calls=1), release=lease)  # gone: harmless
    [row] = store.limits().usage(user, now_ms=T0, day=DAY, window_ms=20_000)
    assert (row.in_flight, row.day_calls, row.records) == (0, 2, 3)
    assert admit(store, defaults=server)[0].code == 0


def test_a_refused_call_writes_nothing(store: Store, user: str) -> None:
    server = LimitValues(1, 0, 20_000, 1)
    admit(store, defaults=server)
    before = (store.limits().leases(), store.limits().usage(user, now_ms=T0, day=DAY, window_ms=1))
    assert admit(store, defaults=server)[0].code == 20015
    after = (store.limits().leases(), store.limits().usage(user, now_ms=T0, day=DAY, window_ms=1))
    assert before == after


def test_user_limits_override_the_server_and_zero_means_none(store: Store, user: str) -> None:
    store.limits().update_limits(user, {"daily_quota": 2})
    assert codes(store, 3) == [0, 0, 20015]
    store.limits().update_limits(user, {"daily_quota": 0})
    assert codes(store, 3, defaults=LimitValues(1, 0, 20_000, 0)) == [0, 0, 0]
    store.limits().update_limits(user, {"daily_quota": None})
    assert admit(store, defaults=LimitValues(4, 0, 20_000, 0))[0].code == 20015


def test_checks_run_quota_then_rate_then_concurrency(store: Store, user: str) -> None:
    server = LimitValues(2, 1, 1000, 1)
    assert admit(store, defaults=server)[0].code == 0
    assert admit(store, defaults=server)[0].code == 20023  # rate before concurrency
    assert admit(store, at=T0 + 2000, defaults=server)[0].code == 20024
    refused, _ = admit(store, at=T0 + 4000, defaults=LimitValues(1, 1, 1000, 1))
    assert refused.code == 20015  # the quota before the others


def test_usage_is_counted_per_day_and_listed_with_limits(store: Store, user: str) -> None:
    store.add_user("v", "k")
    store.add_user("idle", "k")
    store.limits().update_limits("v", {"rate_calls": 5, "rate_window_ms": 60_000})
    admit(store, defaults=LimitValues(0, 5, 1000, 1))
    admit(store, "v", at=T0 + 1)
    limits = store.limits()
    limits.count_usage(UsageCount("u", DAY, calls=1, records=300))
    limits.count_usage(UsageCount("u", DAY, calls=1, records=2))
    limits.count_usage(UsageCount("u", DAY, rejected=20024))
    limits.count_usage(UsageCount("v", DAY + 1, calls=1, records=7))
    rows = limits.usage(None, now_ms=T0 + 500, day=DAY, window_ms=1000)
    assert [
        (r.user_id, r.day_calls, r.records, r.rejects[20024], r.window_calls, r.in_flight)
        for r in rows
    ] == [("idle", 0, 0, 0, 0, 0), ("u", 2, 302, 1, 1, 1), ("v", 0, 0, 0, 1, 0)]
    [v] = limits.usage("v", now_ms=T0 + 500, day=DAY + 1, window_ms=1000)
    assert (v.day_calls, v.records, v.overrides.rate_calls) == (1, 7, 5)
    # Past the server's window but inside v's own.
    rows = limits.usage(None, now_ms=T0 + 30_000, day=DAY, window_ms=1000)
    assert [r.window_calls for r in rows] == [0, 0, 1]
    limits.reset_usage()
    rows = limits.usage(None, now_ms=T0 + 500, day=DAY, window_ms=1000)
    assert {(r.day_calls, r.records, r.window_calls, r.in_flight) for r in rows} == {(0, 0, 0, 0)}
    assert rows[2].overrides.rate_calls == 5


def test_removing_a_user_removes_its_limits(store: Store, user: str) -> None:
    store.limits().update_limits(user, {"daily_quota": 3})
    store.remove_user(user)
    store.add_user(user, "k2")
    assert store.limits().overrides(user) == LimitValues()


# -- fault rules --------------------------------------------------------------------------
def rule(**kw: object) -> FaultRule:
    return FaultRule(**kw)  # type: ignore[arg-type]


def take_all(candidates: Sequence[tuple[FaultRule, int]]) -> list[int]:
    return [r.id for r, _ in candidates]


def test_fault_rules_are_added_listed_replaced_and_removed(store: Store) -> None:
    faults = store.faults()
    added = faults.add([rule(operation="getLead", code=20103), rule(delay_ms=5, times=2)])
    assert [r.id for r in added] == sorted(r.id for r in added)
    assert [(r.operation, r.code, r.delay_ms, r.times) for r in faults.rules()] == [
        ("getLead", 20103, 0, None),
        (None, None, 5, 2),
    ]
    [replaced] = faults.add([rule(status=503)], replace=True)
    assert faults.rules() == [replaced]
    assert faults.remove(replaced.id + 1000) == 0
    assert faults.remove(replaced.id) == 1
    faults.add([rule(code=20011), rule(code=20012)])
    assert faults.remove() == 2
    assert faults.rules() == []


def test_fire_counts_matches_and_respects_times(store: Store) -> None:
    faults = store.faults()
    [a, b] = faults.add(
        [
            rule(operation="syncMultipleLeads", code=20023, times=2),
            rule(user_id="alice", drop="after"),
        ]
    )
    seen: list[list[tuple[int, int]]] = []

    def record(candidates: Sequence[tuple[FaultRule, int]]) -> list[int]:
        seen.append([(r.id, k) for r, k in candidates])
        return take_all(candidates)

    fired = [
        [r.id for r in faults.fire(user, op, record)]
        for user, op in [
            ("bob", "syncMultipleLeads"),
            ("alice", "getLead"),
            ("alice", "syncMultipleLeads"),
            ("alice", "syncMultipleLeads"),
        ]
    ]
    assert fired == [[a.id], [b.id], [a.id, b.id], [b.id]]
    # Positions count the calls each rule matched while it was live.
    assert seen == [[(a.id, 1)], [(b.id, 1)], [(a.id, 2), (b.id, 2)], [(b.id, 3)]]
    by_id = {r.id: r for r in faults.rules()}
    assert (by_id[a.id].matched, by_id[a.id].fired) == (2, 2)
    assert (by_id[b.id].matched, by_id[b.id].fired) == (3, 3)


def test_a_rule_not_chosen_is_counted_but_not_used_up(store: Store) -> None:
    faults = store.faults()
    [only] = faults.add([rule(code=20011, times=1)])
    assert faults.fire("u", "getLead", lambda candidates: []) == []
    [fired] = faults.fire("u", "getLead", take_all)
    assert fired.id == only.id
    assert faults.fire("u", "getLead", take_all) == []
    [stored] = faults.rules()
    assert (stored.matched, stored.fired) == (2, 1)


# -- reset --------------------------------------------------------------------------------
def test_reset_leads_keeps_users_fields_and_lists(store: Store) -> None:
    store.add_user("u", "k")
    store.add_custom_field(FieldDef("Shoe_Size__c", FieldType.INTEGER))
    store.add_static_list("Webinar")
    now = datetime.now(UTC)
    with store.write() as tx:
        ids = tx.allocate_ids(3)
        tx.insert_leads([Lead(i, f"l{i}@x.com", None, None, {}, now, now) for i in ids])
    assert store.reset_leads() == 3
    with store.read() as reader:
        assert reader.count_leads() == 0
    assert store.get_user("u") is not None
    assert [f.name for f in store.custom_fields()] == ["Shoe_Size__c"]
    assert [lst.name for lst in store.static_lists()] == ["Webinar"]
    # Ids are never handed out twice, reset or not.
    with store.write() as tx:
        assert tx.allocate_ids(1)[0] > max(ids)
