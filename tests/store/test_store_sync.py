"""operations.sync.sync_leads end to end, on every backend."""

from __future__ import annotations

from leadsync.model import FieldDef, FieldType, Lead, LeadInput, SyncOutcome
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncBatchResult, SyncOptions, sync_leads
from leadsync.store import Store

CREATED, UPDATED, FAILED = SyncOutcome.CREATED, SyncOutcome.UPDATED, SyncOutcome.FAILED


def record(
    email: str | None = None,
    *,
    lead_id: int | None = None,
    fsp: str | None = None,
    **attrs: str,
) -> LeadInput:
    return LeadInput(
        id=lead_id,
        email=email,
        foreign_sys_person_id=fsp,
        foreign_sys_type="CUSTOM" if fsp else None,
        attributes=list(attrs.items()),
    )


def sync(store: Store, *records: LeadInput, dedup: bool = True) -> SyncBatchResult:
    catalogue = FieldCatalogue(store.custom_fields())
    return sync_leads(store, catalogue, records, SyncOptions(dedup=dedup))


def outcomes(result: SyncBatchResult) -> list[tuple[int, SyncOutcome]]:
    return [(s.lead_id, s.status) for s in result.statuses]


def lead(store: Store, lead_id: int) -> Lead:
    with store.read() as reader:
        return reader.leads_by_ids([lead_id])[lead_id]


def test_dedupe_matches_the_email_without_regard_to_case(store: Store) -> None:
    (first,) = outcomes(sync(store, record("Pat@Example.com", FirstName="Pat")))
    assert first[1] is CREATED
    again = outcomes(sync(store, record("pat@EXAMPLE.com", LastName="Doe")))
    assert again == [(first[0], UPDATED)]
    stored = lead(store, first[0])
    assert stored.email == "Pat@Example.com"
    assert stored.values == {"FirstName": "Pat", "LastName": "Doe"}


def test_without_dedupe_every_record_creates_a_lead(store: Store) -> None:
    (first,) = outcomes(sync(store, record("dup@x.com")))
    (second,) = outcomes(sync(store, record("dup@x.com"), dedup=False))
    assert second[1] is CREATED
    assert second[0] > first[0]
    with store.read() as reader:
        assert reader.count_leads() == 2
        assert reader.newest_leads_by_email(["dup@x.com"])["dup@x.com"].id == second[0]
    # Dedupe now picks the newest of the two.
    assert outcomes(sync(store, record("dup@x.com", City="Oslo"))) == [(second[0], UPDATED)]


def test_an_unknown_id_fails_its_record_only(store: Store) -> None:
    result = sync(store, record(lead_id=987654), record("ok@x.com"))
    assert [s.status for s in result.statuses] == [FAILED, CREATED]
    assert result.statuses[0].lead_id == 0
    with store.read() as reader:
        assert reader.count_leads() == 1


def test_a_lead_matched_by_id_takes_the_new_foreign_id(store: Store) -> None:
    ((lead_id, _),) = outcomes(sync(store, record("fsp@x.com", fsp="OLD-1")))
    assert outcomes(sync(store, record(lead_id=lead_id, fsp="NEW-1"))) == [(lead_id, UPDATED)]
    assert lead(store, lead_id).foreign_sys_person_id == "NEW-1"
    with store.read() as reader:
        assert reader.leads_by_foreign_ids(["OLD-1"]) == {}
        assert list(reader.leads_by_foreign_ids(["NEW-1"])) == ["NEW-1"]
    # The old id is free again: a record carrying it creates a new lead.
    ((created, outcome),) = outcomes(sync(store, record(fsp="OLD-1")))
    assert outcome is CREATED
    assert created != lead_id


def test_a_foreign_id_owned_by_another_lead_fails_the_record(store: Store) -> None:
    ((owner, _),) = outcomes(sync(store, record("owner@x.com", fsp="TAKEN")))
    ((other, _),) = outcomes(sync(store, record("other@x.com", City="Oslo")))
    before = lead(store, other)
    result = sync(store, record(lead_id=other, fsp="TAKEN", City="Rome"))
    assert [s.status for s in result.statuses] == [FAILED]
    assert lead(store, other) == before
    assert lead(store, owner).foreign_sys_person_id == "TAKEN"


def test_the_same_new_email_twice_in_one_batch_is_created_then_updated(store: Store) -> None:
    result = sync(
        store,
        record("twice@x.com", FirstName="One"),
        record("TWICE@x.com", LastName="Two"),
    )
    (first_id, first), (second_id, second) = outcomes(result)
    assert (first, second) == (CREATED, UPDATED)
    assert first_id == second_id
    assert lead(store, first_id).values == {"FirstName": "One", "LastName": "Two"}
    with store.read() as reader:
        assert reader.count_leads() == 1


def test_typed_values_survive_a_sync(store: Store) -> None:
    store.add_custom_field(FieldDef("Ratio", FieldType.FLOAT))
    ((lead_id, _),) = outcomes(
        sync(
            store,
            record(
                "typed@x.com",
                LeadScore="42",
                AnnualRevenue="1e16",
                Ratio="0.25",
                DoNotCall="true",
                DateofBirth="1980-02-29",
                Company="Acme",
            ),
        )
    )
    values = lead(store, lead_id).values
    assert values == {
        "LeadScore": 42,
        "AnnualRevenue": 1e16,
        "Ratio": 0.25,
        "DoNotCall": True,
        "DateofBirth": "1980-02-29",
        "Company": "Acme",
    }
    assert [type(values[k]) for k in ("LeadScore", "AnnualRevenue", "DoNotCall")] == [
        int,
        float,
        bool,
    ]
    # An empty value clears a field.
    sync(store, record("typed@x.com", Company=""))
    assert "Company" not in lead(store, lead_id).values


def test_a_changed_email_moves_the_dedupe_match(store: Store) -> None:
    ((lead_id, _),) = outcomes(sync(store, record("before@x.com")))
    result = sync(
        store,
        record(lead_id=lead_id, Email="after@x.com"),
        record("before@x.com", City="Oslo"),
        record("after@x.com", State="NY"),
    )
    (_, moved), (created_id, created), (after_id, updated) = outcomes(result)
    assert (moved, created, updated) == (UPDATED, CREATED, UPDATED)
    assert after_id == lead_id
    assert created_id != lead_id
    assert lead(store, lead_id).email == "after@x.com"
    assert lead(store, lead_id).values == {"State": "NY"}
    assert lead(store, created_id).values == {"City": "Oslo"}


def test_a_record_naming_its_own_foreign_id_by_id_updates(store: Store) -> None:
    ((lead_id, _),) = outcomes(sync(store, record("own@x.com", fsp="MINE")))
    assert outcomes(sync(store, record(lead_id=lead_id, fsp="MINE", City="Oslo"))) == [
        (lead_id, UPDATED)
    ]
    assert lead(store, lead_id).values == {"City": "Oslo"}


def test_one_lead_reached_through_two_keys_keeps_both_changes(store: Store) -> None:
    ((lead_id, _),) = outcomes(sync(store, record("both@x.com", fsp="BOTH")))
    result = sync(store, record("both@x.com", City="Oslo"), record(fsp="BOTH", State="NY"))
    assert outcomes(result) == [(lead_id, UPDATED), (lead_id, UPDATED)]
    assert lead(store, lead_id).values == {"City": "Oslo", "State": "NY"}
