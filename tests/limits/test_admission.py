"""The admission rule alone: a pure function of the stored state, the time and the limits."""

from __future__ import annotations

from leadsync.limits.admission import decide
from leadsync.store.control import Counters, CounterState, CounterWrite, Lease, LimitValues

DAY = 20260115
NOW = 1_768_000_000_000
UNSET = LimitValues()
NEW = Lease("new", "me", NOW + 60_000)


def state(
    *,
    own: LimitValues = UNSET,
    day: int = DAY,
    calls: int = 0,
    recent: tuple[int, ...] = (),
    leases: tuple[Lease, ...] = (),
) -> CounterState:
    return CounterState(own, Counters(day, calls, recent), leases)


def verdict_of(
    current: CounterState, limits: LimitValues, *, dead: frozenset[str] = frozenset()
) -> tuple[int, CounterWrite | None]:
    verdict, write = decide(
        current, now_ms=NOW, day=DAY, defaults=limits, lease=NEW, dead=dead.__contains__
    )
    return verdict.code, write


def test_an_admitted_call_is_counted_and_takes_a_lease() -> None:
    code, write = verdict_of(state(calls=4, recent=(NOW - 5,)), LimitValues(5, 3, 1000, 2))
    assert code == 0
    assert write == CounterWrite(Counters(DAY, 5, (NOW - 5, NOW)), NEW, ())


def test_refusals_write_nothing_and_come_in_order() -> None:
    limits = LimitValues(5, 1, 1000, 1)
    busy = (Lease("a", "other", NOW + 1),)
    assert verdict_of(state(calls=5, recent=(NOW,), leases=busy), limits) == (20015, None)
    assert verdict_of(state(calls=1, recent=(NOW,), leases=busy), limits) == (20023, None)
    assert verdict_of(state(calls=1, leases=busy), limits) == (20024, None)


def test_a_new_day_and_an_old_window_start_afresh() -> None:
    code, write = verdict_of(
        state(day=DAY - 1, calls=5, recent=(NOW - 1000,)), LimitValues(5, 1, 1000, 0)
    )
    assert (code, write) == (0, CounterWrite(Counters(DAY, 1, (NOW,)), None, ()))


def test_the_users_own_limits_win_and_zero_turns_one_off() -> None:
    assert (
        verdict_of(state(own=LimitValues(daily_quota=0), calls=9), LimitValues(1, 0, 0, 0))[0] == 0
    )
    assert verdict_of(state(own=LimitValues(daily_quota=2), calls=2), LimitValues(0, 0, 0, 0))[
        0
    ] == (20015)


def test_only_expired_or_dead_leases_are_reaped_and_only_when_the_slot_is_needed() -> None:
    limits = LimitValues(0, 0, 0, 2)
    expired = Lease("x", "other-host", NOW)
    dead = Lease("d", "gone", NOW + 1)
    live = Lease("l", "alive", NOW + 1)
    code, write = verdict_of(state(leases=(expired, dead)), limits, dead=frozenset({"gone"}))
    assert code == 0
    assert write is not None
    assert (write.reaped, write.lease) == (("x", "d"), NEW)
    # A free slot: nobody is probed, nothing reaped.
    code, write = verdict_of(state(leases=(dead,)), limits, dead=frozenset({"gone"}))
    assert code == 0
    assert write is not None
    assert write.reaped == ()
    # Live leases are never taken back, however many.
    assert verdict_of(state(leases=(live, live)), limits)[0] == 20024
