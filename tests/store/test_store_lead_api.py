"""The lead API's storage: paged reads, static lists, activities and merges, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadsync.model import Activity, Lead
from leadsync.store import Store
from leadsync.store.base import ActivityQuery, AlreadyExists, LeadQuery

T0 = datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=UTC)


def insert(store: Store, *specs: dict[str, Any]) -> list[Lead]:
    """One lead per spec (email, fsp, cookie, values, at), with fresh ids."""
    with store.write() as tx:
        ids = tx.allocate_ids(len(specs))
        leads = [
            Lead(
                id=lead_id,
                email=spec.get("email"),
                foreign_sys_person_id=spec.get("fsp"),
                foreign_sys_type="CUSTOM" if spec.get("fsp") else None,
                values=dict(spec.get("values", {})),
                created_at=spec.get("at", T0),
                updated_at=spec.get("at", T0),
                cookie=spec.get("cookie"),
            )
            for lead_id, spec in zip(ids, specs, strict=True)
        ]
        tx.insert_leads(leads)
    return leads


def activity(lead_id: int, kind: str = "NewLead", minutes: int = 0, **attrs: str) -> Activity:
    return Activity(
        0,
        lead_id,
        kind,
        T0 + timedelta(minutes=minutes),
        attrs.pop("asset", None),
        tuple(attrs.items()) or (("Lead ID", str(lead_id)),),
    )


def record(store: Store, *activities: Activity) -> None:
    with store.write() as tx:
        tx.record_activities(activities)


def read_activities(store: Store, query: ActivityQuery, limit: int = 100) -> list[Activity]:
    with store.read() as reader:
        return reader.activities(query, limit)


# -- leads -------------------------------------------------------------------------------
def test_leads_by_email_are_every_lead_newest_first(store: Store) -> None:
    a, b, c = insert(
        store, {"email": "x@example.com"}, {"email": "y@example.com"}, {"email": "X@Example.com"}
    )
    with store.read() as reader:
        found = reader.leads_by_email(["x@example.com", "y@example.com", "none@example.com"])
    assert {k: [lead.id for lead in v] for k, v in found.items()} == {
        "x@example.com": [c.id, a.id],
        "y@example.com": [b.id],
    }


def test_pages_by_update_time_in_id_order(store: Store) -> None:
    leads = insert(store, *({"at": T0 + timedelta(minutes=m)} for m in (5, 1, 3, 9, 2)))
    window = LeadQuery(0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=5))
    with store.read() as reader:
        assert reader.count_leads_page(window) == 3
        first = reader.leads_page(window, 2)
        rest = reader.leads_page(replace(window, after_id=first[-1].id), 2)
        assert reader.count_leads_page(replace(window, after_id=first[-1].id)) == 1
        open_ended = reader.leads_page(LeadQuery(0, T0 + timedelta(minutes=3)), 10)
    assert [lead.id for lead in first + rest] == [leads[0].id, leads[2].id, leads[4].id]
    assert first[0] == leads[0]
    assert [lead.id for lead in open_ended] == [leads[0].id, leads[2].id, leads[3].id]


def test_pages_of_list_members(store: Store) -> None:
    leads = insert(store, {}, {}, {}, {})
    static_list = store.add_static_list("Program.List")
    with store.write() as tx:
        assert tx.add_list_members(static_list.id, [leads[3].id, leads[1].id], T0) == [
            leads[3].id,
            leads[1].id,
        ]
    query = LeadQuery(0, list_id=static_list.id)
    with store.read() as reader:
        assert [lead.id for lead in reader.leads_page(query, 10)] == [leads[1].id, leads[3].id]
        assert reader.count_leads_page(replace(query, after_id=leads[1].id)) == 1


# -- static lists ------------------------------------------------------------------------
def test_static_lists(store: Store) -> None:
    a = store.add_static_list("Program.Alpha")
    b = store.add_static_list("beta")
    with pytest.raises(AlreadyExists):
        store.add_static_list("PROGRAM.ALPHA")
    (lead,) = insert(store, {})
    with store.write() as tx:
        tx.add_list_members(b.id, [lead.id], T0)
    assert [(s.name, s.members) for s in store.static_lists()] == [
        ("beta", 1),
        ("Program.Alpha", 0),
    ]
    with store.read() as reader:
        assert reader.static_list(name=" program.alpha ") == a
        assert reader.static_list(list_id=b.id) == b
        assert reader.static_list(name="gamma") is None
        assert reader.static_list(list_id=10**6) is None
        assert reader.static_list(list_id=2**70) is None


def test_membership_changes_report_what_changed(store: Store) -> None:
    a, b, c = insert(store, {}, {}, {})
    static_list = store.add_static_list("L")
    with store.write() as tx:
        assert tx.add_list_members(static_list.id, [a.id, b.id, a.id], T0) == [a.id, b.id]
        assert tx.add_list_members(static_list.id, [b.id, c.id], T0) == [c.id]
        assert tx.remove_list_members(static_list.id, [c.id, c.id, 10**9]) == [c.id]
    with store.read() as reader:
        assert reader.list_members(static_list.id, [a.id, b.id, c.id, 10**9]) == {a.id, b.id}


# -- activities --------------------------------------------------------------------------
def test_activities_round_trip_in_id_order(store: Store) -> None:
    a, b = insert(store, {}, {})
    record(
        store,
        activity(a.id, "NewLead"),
        activity(
            b.id, "ChangeDataValue", 1, asset="Lead Score", **{"Old Value": "", "New": "é 😀"}
        ),
    )
    found = read_activities(store, ActivityQuery())
    assert [x.lead_id for x in found] == [a.id, b.id]
    assert found[0].id < found[1].id
    second = found[1]
    assert (second.type, second.asset_name, second.created_at) == (
        "ChangeDataValue",
        "Lead Score",
        T0 + timedelta(minutes=1),
    )
    assert second.attributes == (("Old Value", ""), ("New", "é 😀"))


def test_activity_filters(store: Store) -> None:
    a, b, c = insert(store, {}, {}, {})
    static_list = store.add_static_list("L")
    with store.write() as tx:
        tx.add_list_members(static_list.id, [c.id], T0)
    record(
        store,
        activity(a.id, "NewLead", 0),
        activity(a.id, "ChangeDataValue", 1),
        activity(b.id, "NewLead", 2),
        activity(c.id, "AddToList", 3),
        activity(a.id, "ChangeDataValue", 4),
    )
    every = read_activities(store, ActivityQuery())
    ids = [x.id for x in every]

    def of(query: ActivityQuery) -> list[int]:
        with store.read() as reader:
            found = [x.id for x in reader.activities(query, 100)]
            assert reader.count_activities(query) == len(found)
        return found

    assert of(ActivityQuery(lead_ids=(a.id,))) == [ids[0], ids[1], ids[4]]
    assert of(ActivityQuery(lead_ids=())) == []
    assert of(ActivityQuery(list_id=static_list.id)) == [ids[3]]
    assert of(ActivityQuery(types=frozenset({"NewLead"}))) == [ids[0], ids[2]]
    assert of(ActivityQuery(types=frozenset())) == []
    assert of(ActivityQuery(exclude_types=frozenset({"NewLead", "AddToList"}))) == [ids[1], ids[4]]
    window = ActivityQuery(
        created_from=T0 + timedelta(minutes=1), created_to=T0 + timedelta(minutes=3)
    )
    assert of(window) == ids[1:4]
    assert of(ActivityQuery(created_from=T0 + timedelta(minutes=2))) == ids[2:]
    assert of(ActivityQuery(created_from=T0 + timedelta(days=1))) == []
    assert of(ActivityQuery(after_id=ids[2])) == ids[3:]
    assert of(ActivityQuery(lead_ids=(a.id,), newest_first=True)) == [ids[4], ids[1], ids[0]]
    assert of(ActivityQuery(lead_ids=(a.id,), newest_first=True, before_id=ids[4])) == [
        ids[1],
        ids[0],
    ]
    with store.read() as reader:
        assert [x.id for x in reader.activities(ActivityQuery(), 2)] == ids[:2]


def test_a_rolled_back_write_records_no_history(store: Store) -> None:
    (lead,) = insert(store, {})

    def fail_after_recording() -> None:
        with store.write() as tx:
            tx.record_activities([activity(lead.id)])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_recording()
    assert read_activities(store, ActivityQuery()) == []


# -- merges ------------------------------------------------------------------------------
def test_merge_moves_history_and_lists_then_stores_the_winner(store: Store) -> None:
    winner, loser, other = insert(
        store,
        {"email": "w@example.com", "values": {"City": "Lyon"}},
        {"email": "l@example.com", "fsp": "F-9", "cookie": "c-9"},
        {},
    )
    one, two = store.add_static_list("one"), store.add_static_list("two")
    with store.write() as tx:
        tx.add_list_members(one.id, [winner.id, loser.id], T0)
        tx.add_list_members(two.id, [loser.id], T0)
    record(store, activity(winner.id), activity(loser.id), activity(other.id))
    merged = Lead(
        id=winner.id,
        email=winner.email,
        foreign_sys_person_id="F-9",
        foreign_sys_type="CUSTOM",
        values={"City": "Lyon", "Title": "CTO"},
        created_at=winner.created_at,
        updated_at=T0 + timedelta(hours=1),
        cookie="c-9",
    )
    with store.write() as tx:
        tx.merge_leads(merged, [loser.id], T0 + timedelta(hours=1))
    with store.read() as reader:
        assert reader.leads_by_ids([winner.id, loser.id]) == {winner.id: merged}
        assert reader.leads_by_foreign_ids(["F-9"])["F-9"].id == winner.id
        assert reader.leads_by_cookies(["c-9"])["c-9"].id == winner.id
        assert reader.list_members(one.id, [winner.id, loser.id]) == {winner.id}
        assert reader.list_members(two.id, [winner.id, loser.id]) == {winner.id}
        moved = reader.activities(ActivityQuery(lead_ids=(winner.id,)), 10)
        assert len(moved) == 2
        assert reader.count_activities(ActivityQuery(lead_ids=(loser.id,))) == 0
    assert [s.members for s in store.static_lists()] == [1, 1]


def test_created_since_finds_its_start_in_a_long_history(store: Store) -> None:
    (lead,) = insert(store, {})
    for minute in range(40):
        record(store, activity(lead.id, minutes=minute))
    for start in (0, 1, 17, 38, 39, 40):
        query = ActivityQuery(created_from=T0 + timedelta(minutes=start))
        got = read_activities(store, query, 1000)
        assert [a.created_at for a in got] == [T0 + timedelta(minutes=m) for m in range(start, 40)]
