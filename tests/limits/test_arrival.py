"""Concurrency counts a call from its arrival at the HTTP layer, not from when a worker
thread is free: a call beyond the limit gets 20024 at once, whatever ``--threads`` is, and
writes nothing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
from limits_wire import TOKEN, outcome, sync_one, usage

from support import Server, count_leads, running_server

SLOW_S = 3.0


def _wait_in_flight(srv: Server, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while usage(srv)["in_flight"] < count:
        assert time.monotonic() < deadline, "the slow calls never got in flight"
        time.sleep(0.02)


def _third_call_is_refused_at_once(srv: Server, pool: ThreadPoolExecutor) -> list[Future[int]]:
    slow = [pool.submit(lambda: outcome(sync_one(srv))) for _ in range(2)]
    _wait_in_flight(srv, 2)
    started = time.monotonic()
    third = outcome(sync_one(srv, "third@arrival.example.com"))
    waited = time.monotonic() - started
    assert third == 20024
    assert waited < SLOW_S / 2, f"the third call waited {waited:.2f} s for its answer"
    return slow


def test_a_third_call_beyond_concurrency_2_gets_20024_at_once_on_sqlite(tmp_path: Path) -> None:
    flags = ("--concurrency", "2", "--inject", f"delay={SLOW_S}", "--admin-token", TOKEN)
    with running_server(tmp_path, *flags) as srv, ThreadPoolExecutor(2) as pool:
        slow = _third_call_is_refused_at_once(srv, pool)
        assert [call.result() for call in slow] == [0, 0]
        assert usage(srv)["rejects"]["20024"] == 1
    assert count_leads(srv.database_url) == 2


def test_the_same_on_postgresql_with_2_workers(tmp_path: Path, postgres_url: str) -> None:
    flags = ("--concurrency", "2", "--workers", "2", "--inject", f"delay={SLOW_S}")
    with (
        running_server(tmp_path, *flags, "--admin-token", TOKEN, database_url=postgres_url) as srv,
        ThreadPoolExecutor(2) as pool,
    ):
        slow = _third_call_is_refused_at_once(srv, pool)
        assert [call.result() for call in slow] == [0, 0]
    assert count_leads(postgres_url) == 2


def test_a_call_waiting_for_a_worker_thread_already_holds_its_slot(
    tmp_path: Path, postgres_url: str
) -> None:
    # One worker thread, held by a call whose write waits for a lock this test holds; the
    # second call is admitted and waits for the thread; the third is refused at once.
    flags = ("--concurrency", "2", "--threads", "1", "--admin-token", TOKEN)
    with running_server(tmp_path, *flags, database_url=postgres_url) as srv:
        with psycopg.connect(postgres_url) as blocker, ThreadPoolExecutor(2) as pool:
            blocker.execute("LOCK TABLE leads IN SHARE MODE")
            held = threading.Timer(SLOW_S, blocker.rollback)
            held.start()
            try:
                slow = _third_call_is_refused_at_once(srv, pool)
            finally:
                held.join()
            assert [call.result() for call in slow] == [0, 0]
        assert usage(srv)["in_flight"] == 0
    assert count_leads(postgres_url) == 2
