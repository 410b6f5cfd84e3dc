"""Same-key writes of concurrent calls in one process go one after another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from inprocess import AppServer
from leadsync.bridge.ordering import KeyLocks
from leadsync.bridge.service import Bridge
from leadsync.testing import LeadsyncServer
from support import lead_record, statuses, sync_params


def _until(condition: Callable[[], bool]) -> None:
    """Wait for another thread to reach a state (not to order anything)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)


def test_a_write_waits_for_the_one_holding_a_key_it_names() -> None:
    locks = KeyLocks()
    order: list[str] = []
    first_in, first_may_go = threading.Event(), threading.Event()

    def first() -> None:
        with locks.holding([("email", "a"), ("email", "b")], time.monotonic() + 10):
            order.append("first in")
            first_in.set()
            assert first_may_go.wait(10)
            order.append("first out")

    def second() -> None:
        with locks.holding([("email", "c"), ("email", "b")], time.monotonic() + 10):
            order.append("second in")

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(10)
    two = threading.Thread(target=second)
    two.start()
    _until(lambda: locks.users(("email", "b")) == 2)
    # A write naming other keys does not wait.
    with locks.holding([("email", "c"), ("email", "d")], time.monotonic() + 10):
        order.append("other keys")
    first_may_go.set()
    one.join(10)
    two.join(10)
    assert order == ["first in", "other keys", "first out", "second in"]
    assert all(locks.users(("email", k)) == 0 for k in "abcd")


def test_concurrent_calls_creating_one_email_go_one_after_another(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    service = bridge.http.app.state.bridge
    assert isinstance(service, Bridge)
    # Describe read first, so that both calls go straight to Sync Leads.
    statuses(bridge.call("syncMultipleLeads", sync_params([lead_record("warm@x.com")])))
    upstream.inject("op=syncLeads,delay=1500ms,times=1")
    params = sync_params([lead_record("Same@X.com")])
    with ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(bridge.call, "syncMultipleLeads", params) for _ in range(2)]
        # The second waits in the bridge while the first is upstream, not upstream beside it.
        _until(lambda: service.upstream.writing.users(("email", "same@x.com")) == 2)
        got = sorted(statuses(call.result())[0].status for call in calls)
    assert got == ["CREATED", "UPDATED"]
    assert len(upstream.leads("Same@X.com")) == 1
