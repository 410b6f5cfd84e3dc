"""The writer thread behind usage counts, the calls history and the bridge's journal
(leadsync/flushing.py): woken or on an interval, retried after a failure, last on close."""

from __future__ import annotations

import threading

from leadsync.flushing import FlushThread


def test_woken_it_writes_retries_a_failure_and_writes_last_on_close() -> None:
    results = iter([False, True])
    calls: list[str] = []
    done = threading.Event()

    def flush() -> bool:
        ok = next(results, True)
        calls.append("ok" if ok else "failed")
        if len(calls) == 2:
            done.set()
        return ok

    thread = FlushThread(flush, name="test-flush", retry=0.01)
    assert thread.wake()
    assert done.wait(5), calls
    assert calls[:2] == ["failed", "ok"]  # the failure is tried again without a new wake
    thread.close()
    assert calls[-1] == "ok"  # close writes what is left
    assert not thread.wake()  # closed: the caller writes itself


def test_on_an_interval_it_writes_without_being_woken_again() -> None:
    written = threading.Semaphore(0)

    def flush() -> bool:
        written.release()
        return True

    thread = FlushThread(flush, name="test-interval", interval=0.01)
    thread.wake()
    assert written.acquire(timeout=5)
    assert written.acquire(timeout=5)
    thread.close()
