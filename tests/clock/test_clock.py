"""One injectable clock: tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.testclient import TestClient

from leadsync.app import create_app
from leadsync.clock import SYSTEM_CLOCK, SettableClock
from leadsync.config import Settings
from leadsync.model import LeadInput
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncOptions, sync_leads
from leadsync.store.base import ActivityQuery, Store
from support import DEMO_KEY, DEMO_USER, envelope, fault, lead_record, statuses, sync_params

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def test_a_settable_clock_stands_still_until_moved() -> None:
    assert SettableClock().now().microsecond == 0
    assert abs(SettableClock().now() - SYSTEM_CLOCK.now()) < timedelta(seconds=2)
    clock = SettableClock(START)
    assert clock.now() == START == clock.now()
    assert clock.monotonic() == 0.0
    assert clock.advance(seconds=90) == START + timedelta(seconds=90)
    assert clock.advance(timedelta(hours=1), seconds=1).minute == 1 + 30
    assert clock.monotonic() == 90 + 3601
    clock.set(START - timedelta(days=1))
    assert clock.now() == START - timedelta(days=1)
    assert clock.monotonic() == 90 + 3601  # a step back leaves the monotonic clock alone
    with pytest.raises(ValueError, match="forward"):
        clock.advance(seconds=-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        SettableClock(datetime(2026, 1, 1))


def test_the_system_clock_is_aware_utc() -> None:
    assert SYSTEM_CLOCK.now().tzinfo is UTC
    assert SYSTEM_CLOCK.monotonic() <= SYSTEM_CLOCK.monotonic()


def _post(client: TestClient, clock: SettableClock, operation: str, params: str) -> httpx.Response:
    stamp = clock.now().isoformat(timespec="seconds")
    return client.post("/soap/mktows/2_2", content=envelope(operation, params, timestamp=stamp))


def test_calls_take_their_time_from_the_app_clock(store: Store) -> None:
    store.add_user(DEMO_USER, DEMO_KEY)
    clock = SettableClock(START)
    with TestClient(create_app(Settings(), store, clock=clock)) as client:
        created = _post(client, clock, "syncMultipleLeads", sync_params([lead_record("t@x.io")]))
        [status] = statuses(created)
        clock.advance(timedelta(hours=2))
        record = lead_record("t@x.io", {"FirstName": "Tess"})
        _post(client, clock, "syncMultipleLeads", sync_params([record]))
        # Signed by the machine's clock, the call is months away from the app's: 20016.
        late = client.post("/soap/mktows/2_2", content=envelope("getLead", ""))
    assert fault(late).code == 20016
    with store.read() as reader:
        lead = reader.leads_by_ids([status.lead_id])[status.lead_id]
        history = reader.activities(ActivityQuery(lead_ids=(status.lead_id,)), 10)
    assert (lead.created_at, lead.updated_at) == (START, clock.now())
    assert [a.created_at for a in history] == [START, START + timedelta(hours=2)]


def _sync(store: Store, clock: SettableClock, email: str) -> None:
    records = [LeadInput(email=email)]
    sync_leads(store, FieldCatalogue(), records, SyncOptions(), clock=clock)


def test_activity_times_follow_ids_where_the_store_relies_on_it(store: Store) -> None:
    clock = SettableClock(START)
    _sync(store, clock, "first@x.io")
    clock.set(START - timedelta(hours=1))  # the wall clock steps back
    _sync(store, clock, "second@x.io")
    with store.read() as reader:
        history = reader.activities(ActivityQuery(), 10)
        since = reader.activities(ActivityQuery(created_from=START), 10)
    stamps = [a.created_at for a in history]
    if store.features.concurrent_writers:
        # Nothing orders created_at against ids here; lookups by time use created_at itself.
        assert stamps == [START, START - timedelta(hours=1)]
        assert [a.id for a in since] == [history[0].id]
    else:
        # Serialised writes record no activity earlier than the last one.
        assert stamps == [START, START]
        assert [a.id for a in since] == [a.id for a in history]
