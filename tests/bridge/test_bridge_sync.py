"""syncMultipleLeads through the bridge (spec §9.2): grouping by key, statuses in input
order, the key rules, attribute names translated through the upstream's describe."""

from __future__ import annotations

import itertools
from pathlib import Path

from bridgekit import bridge_settings, journal

from inprocess import AppServer, serving_app
from leadsync.model import FieldDef, FieldType
from leadsync.store import open_store
from leadsync.testing import LeadsyncServer
from support import fault, lead_record, statuses, sync_params

_n = itertools.count()


def unique(prefix: str = "lead") -> str:
    return f"{prefix}-{next(_n)}@example.com"


def sync(bridge: AppServer, *records: str, dedup: str | None = "true") -> list:  # type: ignore[type-arg]
    return statuses(bridge.call("syncMultipleLeads", sync_params(records, dedup)))


def test_leads_are_created_upstream_then_updated(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    a, b = unique(), unique()
    first = sync(bridge, lead_record(a, {"FirstName": "Ann"}), lead_record(b, {"Company": "B"}))
    assert [s.status for s in first] == ["CREATED", "CREATED"]
    assert all(s.error is None for s in first)
    [stored] = upstream.leads(a)
    assert stored["id"] == first[0].lead_id
    second = sync(bridge, lead_record(b, {"Company": "B2"}), lead_record(a, {"LastName": "Lee"}))
    assert [(s.status, s.lead_id) for s in second] == [
        ("UPDATED", first[1].lead_id),
        ("UPDATED", first[0].lead_id),
    ]
    assert len(upstream.leads()) == 2


def test_one_status_per_record_in_input_order_across_groups(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    a = unique()
    [created] = sync(bridge, lead_record(a))
    records = [
        lead_record(unique()),
        lead_record(id=created.lead_id, attrs={"Company": "ById"}),
        lead_record(fsp="F-1", attrs={"FirstName": "Fsp"}),
        lead_record(id=999_999),
        lead_record(unique()),
    ]
    got = sync(bridge, *records)
    assert [s.status for s in got] == ["CREATED", "UPDATED", "CREATED", "FAILED", "CREATED"]
    assert got[1].lead_id == created.lead_id
    assert got[3].error is not None
    assert got[3].error.startswith("1004")
    fsp_lead = upstream.lead(got[2].lead_id)
    assert fsp_lead is not None


def test_foreign_id_records_update_the_lead_holding_it(bridge: AppServer) -> None:
    first = sync(bridge, lead_record(fsp="F-9", attrs={"FirstName": "One"}))
    again = sync(bridge, lead_record(fsp="F-9", attrs={"FirstName": "Two"}))
    assert [s.status for s in first + again] == ["CREATED", "UPDATED"]
    assert again[0].lead_id == first[0].lead_id


def test_email_not_written_when_matched_by_id_unless_an_attribute(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    a = unique()
    [created] = sync(bridge, lead_record(a))
    other = unique()
    [kept] = sync(bridge, lead_record(other, id=created.lead_id, attrs={"Company": "X"}))
    assert kept.status == "UPDATED"
    stored = upstream.lead(created.lead_id)
    assert stored is not None
    assert stored["email"] == a
    [changed] = sync(bridge, lead_record(other, {"Email": other}, id=created.lead_id))
    assert changed.status == "UPDATED"
    stored = upstream.lead(created.lead_id)
    assert stored is not None
    assert stored["email"] == other


def test_dedup_false_creates_duplicates(bridge: AppServer, upstream: LeadsyncServer) -> None:
    a = unique()
    got = sync(bridge, lead_record(a), lead_record(a), dedup="false")
    assert [s.status for s in got] == ["CREATED", "CREATED"]
    assert len(upstream.leads(a)) == 2


def test_unknown_attribute_is_20105_for_the_whole_call(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    response = bridge.call(
        "syncMultipleLeads",
        sync_params([lead_record(unique()), lead_record(unique(), {"Nope": "x"})]),
    )
    assert fault(response).code == 20105
    assert upstream.leads() == []


def test_a_field_added_upstream_is_found_on_a_miss(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    sync(bridge, lead_record(unique()))  # the describe is read and kept
    name = f"added{next(_n)}"
    store = open_store(upstream.database_url)
    try:
        store.add_custom_field(FieldDef(name, FieldType.STRING, custom=True))
    finally:
        store.close()
    [status] = sync(bridge, lead_record(unique(), {name: "v"}))
    assert status.status == "CREATED"


def test_bad_values_fail_their_record_before_anything_goes_upstream(bridge: AppServer) -> None:
    got = sync(bridge, lead_record(unique(), {"LeadScore": "many"}), lead_record(unique()))
    assert [s.status for s in got] == ["FAILED", "CREATED"]


def test_without_a_foreign_id_field_such_records_fail_clearly(
    upstream: LeadsyncServer, tmp_path: Path
) -> None:
    settings = bridge_settings(upstream, upstream_foreign_id_field="")
    with serving_app(tmp_path, **settings) as app:
        got = sync(app, lead_record(fsp="F-2"), lead_record(unique()))
    assert [s.status for s in got] == ["FAILED", "CREATED"]
    assert got[0].error is not None
    assert "--foreign-id-field" in got[0].error


def test_calls_are_split_at_300_records(bridge: AppServer, upstream: LeadsyncServer) -> None:
    records = [lead_record(unique("many")) for _ in range(301)]
    got = sync(bridge, *records)
    assert [s.status for s in got] == ["CREATED"] * 301
    assert len(upstream.leads()) == 301
    [entry] = journal(bridge)
    # The describe, then two Sync Leads calls.
    assert len(entry.request_ids.split(",")) == 3
    assert (entry.records, entry.created) == (301, 301)
