"""The calls history: what a call leaves in it, its bound, and its filters."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from leadsync.app import create_app
from leadsync.call_history import MAX_FAILURES_LISTED, CallHistory
from leadsync.config import Settings
from leadsync.store.base import Store
from leadsync.store.calls import CallEntry, CallQuery
from support import DEMO_KEY, DEMO_USER, envelope, lead_record, sync_params


def _entry(n: int, **kw: object) -> CallEntry:
    values: dict[str, object] = {
        "at_ms": 1_000 + n,
        "user_id": "u1",
        "api": "soap",
        "operation": "getLead",
        "duration_ms": 1.5,
    }
    values.update(kw)
    return CallEntry(**values)  # type: ignore[arg-type]


def test_store_keeps_the_newest_and_pages_newest_first(store: Store) -> None:
    calls = store.calls()
    calls.record([_entry(n) for n in range(5)], keep=3)
    calls.record([_entry(5, user_id="u2", fault_code=20014, summary='{"fault":"x"}')], keep=3)
    page = calls.page(CallQuery(), 10)
    assert [e.at_ms for e in page] == [1005, 1004, 1003]
    assert page[0].fault_code == 20014
    assert page[0].summary == '{"fault":"x"}'
    assert page[1].fault_code is None
    assert calls.page(CallQuery(before_id=page[0].id), 1)[0].at_ms == 1004
    assert [e.at_ms for e in calls.page(CallQuery(user_id="u2"), 10)] == [1005]
    assert [e.at_ms for e in calls.page(CallQuery(faults_only=True), 10)] == [1005]
    assert calls.page(CallQuery(fault_code=20011), 10) == []
    assert calls.page(CallQuery(operation="getLead", since_ms=1004), 10)[-1].at_ms == 1004
    assert calls.get(page[0].id) == page[0]
    assert calls.get(999_999) is None
    counts = {(c.operation, c.fault_code): c.calls for c in calls.counts_since(1003)}
    assert counts == {("getLead", None): 2, ("getLead", 20014): 1}


@pytest.fixture
def app(store: Store) -> Starlette:
    store.add_user(DEMO_USER, DEMO_KEY)
    return create_app(Settings(calls_history=100), store)


def _history(app: Starlette) -> CallHistory:
    history = app.state.call_history
    assert isinstance(history, CallHistory)
    return history


def test_each_call_leaves_an_entry(app: Starlette, store: Store) -> None:
    records = [lead_record("h1@example.com"), lead_record("not-an-email")]
    with TestClient(app) as client:
        ok = client.post(
            "/soap/mktows/2_2", content=envelope("syncMultipleLeads", sync_params(records))
        )
        assert ok.status_code == 200
        bad = envelope("getLead", "", key="wrong")
        assert client.post("/soap/mktows/2_2", content=bad).status_code == 500
        _history(app).flush()
        fault, sync = store.calls().page(CallQuery(), 10)
    assert (sync.user_id, sync.api, sync.operation) == (DEMO_USER, "soap", "syncMultipleLeads")
    assert (sync.records, sync.created, sync.updated, sync.failed) == (2, 1, 0, 1)
    assert sync.fault_code is None
    failure = json.loads(sync.summary)["failures"]
    assert [f["index"] for f in failure] == [1]
    assert failure[0]["error"]
    assert fault.fault_code == 20014
    # Credentials are checked before the Body is read, so a refused call may name none.
    assert fault.operation in ("getLead", "other")
    assert fault.user_id == DEMO_USER
    assert json.loads(fault.summary)["fault"]
    assert fault.duration_ms >= 0


def test_failures_listed_are_bounded(app: Starlette, store: Store) -> None:
    records = [lead_record(f"bad{n}") for n in range(MAX_FAILURES_LISTED + 5)]
    with TestClient(app) as client:
        body = envelope("syncMultipleLeads", sync_params(records))
        assert client.post("/soap/mktows/2_2", content=body).status_code == 200
    # Leaving the client's block ran the app's shutdown, which wrote the rest of the history.
    (entry,) = store.calls().page(CallQuery(), 10)
    summary = json.loads(entry.summary)
    assert len(summary["failures"]) == MAX_FAILURES_LISTED
    assert summary["more_failures"] == 5


def test_a_history_of_zero_keeps_nothing(store: Store) -> None:
    app = create_app(Settings(calls_history=0), store)
    assert app.state.call_history is None


def test_the_pending_queue_is_bounded(store: Store) -> None:
    history = CallHistory(store, keep=100, max_pending=3)
    history._start = lambda: None  # type: ignore[method-assign]  # keep it from flushing
    for n in range(5):
        history.add(_entry(n))
    assert history.flush() == 3
    assert [e.at_ms for e in store.calls().page(CallQuery(), 10)] == [1004, 1003, 1002]
