"""Lead storage primitives (what operations/leads.py builds on), on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from leadsync.model import Lead, Value
from leadsync.store import Store

T0 = datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=UTC)


def make_lead(
    lead_id: int,
    email: str | None = None,
    *,
    fsp: str | None = None,
    cookie: str | None = None,
    values: dict[str, Value] | None = None,
    at: datetime = T0,
) -> Lead:
    return Lead(
        id=lead_id,
        email=email,
        foreign_sys_person_id=fsp,
        foreign_sys_type="CUSTOM" if fsp else None,
        values=dict(values or {}),
        created_at=at,
        updated_at=at,
        cookie=cookie,
    )


def insert(store: Store, *specs: dict[str, Any]) -> list[Lead]:
    """Insert one lead per spec (keyword arguments of make_lead) with fresh ids."""
    with store.write() as tx:
        ids = tx.allocate_ids(len(specs))
        leads = [make_lead(i, **spec) for i, spec in zip(ids, specs, strict=True)]
        tx.insert_leads(leads)
    return leads


def test_leads_round_trip(store: Store) -> None:
    (lead,) = insert(
        store,
        {
            "email": "Ann@Example.com",
            "fsp": "F-1",
            "cookie": "id:1&token:x",
            "values": {"FirstName": "Ann"},
        },
    )
    with store.read() as reader:
        assert reader.leads_by_ids([lead.id]) == {lead.id: lead}
        assert reader.count_leads() == 1


def test_values_keep_their_json_types(store: Store) -> None:
    values: dict[str, Value] = {
        "int": 42,
        "negative": -2147483648,
        "zero": 0,
        "float": 1.5,
        "whole_float": 2.0,
        "zero_float": 0.0,
        "large_float": 1e16,
        "huge_float": 1.7976931348623157e308,
        "small_float": 1.5e-7,
        "tiny_float": 5e-324,
        "third": 1 / 3,
        "true": True,
        "false": False,
        "text": 'quote " backslash \\ tab \t newline \n é 😀 ',
        "empty": "",
        "digits": "00123",
        "date": "2024-02-29",
        "datetime": "2024-02-29T23:59:59Z",
        "null": None,
    }
    (lead,) = insert(store, {"email": "types@x.com", "values": values})
    with store.read() as reader:
        got = reader.leads_by_ids([lead.id])[lead.id].values
    assert got == values
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in values.items()}
    assert "absent" not in got


@pytest.mark.parametrize(
    "moment",
    [
        T0,
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1965, 3, 1, 12, 0, 0, 999999, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, 1, tzinfo=UTC),
        datetime(2024, 5, 17, 15, 0, 0, 654321, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_timestamps_round_trip_as_utc(store: Store, moment: datetime) -> None:
    (lead,) = insert(store, {"email": "t@x.com", "at": moment})
    with store.read() as reader:
        got = reader.leads_by_ids([lead.id])[lead.id]
    assert got.created_at == moment
    assert got.updated_at == moment
    assert got.created_at.tzinfo is UTC
    assert got.created_at.utcoffset() == timedelta(0)


def test_update_rewrites_everything_but_id_and_created_at(store: Store) -> None:
    (lead,) = insert(
        store, {"email": "old@x.com", "fsp": "F-1", "values": {"City": "Oslo", "LeadScore": 3}}
    )
    later = T0 + timedelta(hours=1)
    changed = Lead(
        id=lead.id,
        email="New@X.com",
        foreign_sys_person_id="F-2",
        foreign_sys_type="SFDC",
        values={"LeadScore": 4, "Company": "Acme"},
        created_at=later,
        updated_at=later,
        cookie="c-2",
    )
    with store.write() as tx:
        tx.update_leads([changed])
    with store.read() as reader:
        got = reader.leads_by_ids([lead.id])[lead.id]
        assert reader.newest_leads_by_email(["old@x.com"]) == {}
        assert reader.newest_leads_by_email(["new@x.com"]) == {"new@x.com": got}
        assert reader.leads_by_foreign_ids(["F-1"]) == {}
    assert got == Lead(
        id=lead.id,
        email="New@X.com",
        foreign_sys_person_id="F-2",
        foreign_sys_type="SFDC",
        values={"LeadScore": 4, "Company": "Acme"},
        created_at=T0,
        updated_at=later,
        cookie="c-2",
    )


def test_lookups_by_each_key(store: Store) -> None:
    a, b, c = insert(
        store,
        {"email": "a@x.com", "fsp": "F-A", "cookie": "ck-a"},
        {"email": "b@x.com", "fsp": "F-B"},
        {"email": None, "cookie": "ck-c"},
    )
    with store.read() as reader:
        assert reader.leads_by_ids([a.id, c.id, c.id, 10**9]) == {a.id: a, c.id: c}
        assert reader.leads_by_ids([]) == {}
        assert reader.leads_by_foreign_ids(["F-B", "F-B", "F-missing", "f-a"]) == {"F-B": b}
        assert reader.leads_by_cookies(["ck-a", "ck-c", "ck-none"]) == {"ck-a": a, "ck-c": c}
        assert reader.leads_by_cookies([]) == {}
        assert reader.count_leads() == 3


def test_newest_lead_by_email_is_the_highest_id_ignoring_case(store: Store) -> None:
    first, second, other, third = insert(
        store,
        {"email": "Joe@Example.com"},
        {"email": "joe@example.COM"},
        {"email": "ann@example.com"},
        {"email": "STRASSE@example.com"},
    )
    (fourth,) = insert(store, {"email": " straße@example.com"})
    assert first.id < second.id < third.id < fourth.id
    with store.read() as reader:
        assert reader.newest_leads_by_email(["joe@example.com", "nobody@example.com"]) == {
            "joe@example.com": second
        }
        assert reader.newest_leads_by_email(["ann@example.com", "strasse@example.com"]) == {
            "ann@example.com": other,
            "strasse@example.com": fourth,
        }
        # Keys arrive normalised (email_key); the store does not normalise them again.
        assert reader.newest_leads_by_email(["Joe@Example.com"]) == {}
        assert reader.newest_leads_by_email([]) == {}


def test_a_writer_sees_its_own_changes(store: Store) -> None:
    with store.write() as tx:
        (new_id,) = tx.allocate_ids(1)
        lead = make_lead(new_id, "mine@x.com", fsp="F-9", cookie="ck-9")
        tx.insert_leads([lead])
        assert tx.leads_by_ids([new_id]) == {new_id: lead}
        assert tx.leads_by_foreign_ids(["F-9"]) == {"F-9": lead}
        assert tx.leads_by_cookies(["ck-9"]) == {"ck-9": lead}
        assert tx.newest_leads_by_email(["mine@x.com"]) == {"mine@x.com": lead}
        assert tx.count_leads() == 1
        lead.email = "moved@x.com"
        tx.update_leads([lead])
        assert tx.newest_leads_by_email(["mine@x.com", "moved@x.com"]) == {"moved@x.com": lead}


def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    (kept,) = insert(store, {"email": "kept@x.com", "values": {"City": "Oslo"}})

    def fail_midway() -> None:
        with store.write() as tx:
            ids = tx.allocate_ids(2)
            tx.insert_leads([make_lead(ids[0], "n1@x.com"), make_lead(ids[1], "n2@x.com", fsp="F")])
            tx.update_leads([make_lead(kept.id, "changed@x.com", values={"City": "Rome"})])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    with store.read() as reader:
        assert reader.count_leads() == 1
        assert reader.leads_by_ids([kept.id]) == {kept.id: kept}
        assert reader.newest_leads_by_email(["n1@x.com", "n2@x.com", "changed@x.com"]) == {}
        assert reader.leads_by_foreign_ids(["F"]) == {}


def test_allocated_ids_increase_and_stay_unique(store: Store) -> None:
    with store.write() as tx:
        assert tx.allocate_ids(0) == []
        assert tx.allocate_ids(-1) == []
    first = insert(store, {"email": "1@x.com"}, {"email": "2@x.com"}, {"email": "3@x.com"})
    ids = [lead.id for lead in first]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3

    def allocate_and_fail() -> None:
        with store.write() as tx:
            tx.allocate_ids(5)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        allocate_and_fail()
    second = insert(store, {"email": "4@x.com"}, {"email": "5@x.com"})
    assert min(lead.id for lead in second) > max(ids)
    with store.read() as reader:
        assert reader.count_leads() == 5
