"""Usage counts are written in batches (store/usage_batch.py): summed, seen at once by reads
in the same process, by another process within the interval, kept when a write fails, and
written when the store closes; a lease still ends at once. On every backend."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from leadsync.store import open_store
from leadsync.store.base import Store
from leadsync.store.control import (
    CONCURRENCY_CODE,
    RATE_CODE,
    Counters,
    CounterState,
    CounterWrite,
    Lease,
    UsageCount,
)
from leadsync.store.usage_batch import INTERVAL_S, UsageBatch

DAY = 20261203


def _day_calls(store: Store, user_id: str) -> tuple[int, int, dict[int, int]]:
    [usage] = store.limits().usage(user_id, now_ms=0, day=DAY, window_ms=0)
    return usage.day_calls, usage.records, dict(usage.rejects)


def test_counts_are_summed_and_read_at_once_in_the_same_process(store: Store) -> None:
    store.add_user("u", "k")
    limits = store.limits()
    assert store.limits() is limits  # one part, one batch, for the store's life
    for _ in range(3):
        limits.count_usage(UsageCount("u", DAY, calls=1, records=100))
    limits.count_usage(UsageCount("u", DAY, rejected=RATE_CODE))
    limits.count_usage(UsageCount("u", DAY, rejected=RATE_CODE))
    limits.count_usage(UsageCount("u", DAY, calls=1, error=1003, service="svc"))
    limits.count_usage(UsageCount("u", DAY, error=1003))
    calls, records, rejects = _day_calls(store, "u")
    assert (calls, records) == (4, 300)
    assert (rejects[RATE_CODE], rejects[CONCURRENCY_CODE]) == (2, 0)
    assert limits.error_counts("u", DAY) == {1003: 2}
    assert limits.service_calls(DAY) == {"svc": 1}


def test_another_process_sees_the_counts_within_the_interval(store: Store) -> None:
    store.add_user("u", "k")
    store.limits().count_usage(UsageCount("u", DAY, calls=1, records=2))
    other = open_store(store.url)
    try:
        deadline = time.monotonic() + INTERVAL_S * 10
        while _day_calls(other, "u")[0] != 1:
            assert time.monotonic() < deadline, "the count was never written"
            time.sleep(INTERVAL_S / 5)
    finally:
        other.close()


def test_closing_the_store_writes_what_waits(database_url: str) -> None:
    first = open_store(database_url)
    first.add_user("u", "k")
    first.limits().count_usage(UsageCount("u", DAY, calls=5, records=7))
    first.close()
    second = open_store(database_url)
    try:
        assert _day_calls(second, "u")[:2] == (5, 7)
    finally:
        second.close()


def test_a_lease_ends_with_its_count_at_once(store: Store) -> None:
    store.add_user("u", "k")
    limits = store.limits()
    limits.update_limits("u", {"concurrency": 2})
    lease = Lease("lease-1", "owner", int(time.time() * 1000) + 60_000)

    def admit_with_lease(state: CounterState) -> tuple[bool, CounterWrite]:
        return True, CounterWrite(Counters(DAY, 1), lease=lease)

    assert limits.admit("u", admit_with_lease)
    assert [held.lease_id for held in limits.leases()] == ["lease-1"]
    other = open_store(store.url)
    try:
        limits.count_usage(UsageCount("u", DAY, calls=1), release="lease-1")
        # Written by the call itself: another store sees it with no wait.
        assert other.limits().leases() == []
        assert _day_calls(other, "u")[0] == 1
    finally:
        other.close()


def test_a_failed_write_keeps_the_counts_for_the_next() -> None:
    written: list[UsageCount] = []
    fail = threading.Event()
    fail.set()

    def write(counts: Sequence[UsageCount]) -> None:
        if fail.is_set():
            raise RuntimeError("database away")
        written.extend(counts)

    batch = UsageBatch(write, interval=3600)
    batch.add(UsageCount("u", DAY, calls=1, records=1))
    batch.flush()
    batch.add(UsageCount("u", DAY, calls=1, records=2))
    fail.clear()
    batch.close()
    assert written == [UsageCount("u", DAY, calls=2, records=3, times=2)]
    batch.add(UsageCount("u", DAY, calls=1))  # after close: written at once
    assert written[-1] == UsageCount("u", DAY, calls=1)


def test_counts_from_many_threads_add_up(store: Store) -> None:
    threads = 4
    store.add_user("u", "k")
    limits = store.limits()

    def work() -> None:
        for _ in range(500):
            limits.count_usage(UsageCount("u", DAY, calls=1, records=3))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert _day_calls(store, "u")[:2] == (threads * 500, threads * 1500)
