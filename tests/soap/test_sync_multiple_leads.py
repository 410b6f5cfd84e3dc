"""syncMultipleLeads' rules (docs/compatibility.md), through raw envelopes against a real server."""

from __future__ import annotations

import itertools

import pytest

from support import Server, count_leads, fault, lead_record, statuses, stored_leads, sync_params

_n = itertools.count()


def unique(prefix: str = "lead") -> str:
    return f"{prefix}-{next(_n)}-{id(_n)}@example.com"


def sync(server: Server, *records: str, dedup: str | None = "true") -> list:  # type: ignore[type-arg]
    return statuses(server.call("syncMultipleLeads", sync_params(records, dedup)))


def test_creates_then_updates_with_one_status_per_record_in_order(server: Server) -> None:
    a, b = unique(), unique()
    first = sync(server, lead_record(a, {"Company": "A"}), lead_record(b, {"Company": "B"}))
    assert [s.status for s in first] == ["CREATED", "CREATED"]
    assert all(s.error is None for s in first)
    assert first[0].lead_id != first[1].lead_id
    second = sync(server, lead_record(b, {"Company": "B2"}), lead_record(a, {"Company": "A2"}))
    assert [(s.lead_id, s.status) for s in second] == [
        (first[1].lead_id, "UPDATED"),
        (first[0].lead_id, "UPDATED"),
    ]
    leads = stored_leads(server.database_url, [first[0].lead_id, first[1].lead_id])
    assert leads[first[0].lead_id].values["Company"] == "A2"
    assert leads[first[1].lead_id].values["Company"] == "B2"


def test_values_are_stored_typed(server: Server) -> None:
    email = unique()
    attrs = {
        "LeadScore": "42",
        "AnnualRevenue": "1234.50",
        "DoNotCall": "true",
        "Unsubscribed": "0",
        "DateofBirth": "1980-02-29",
        "FirstName": "Ada",
        "Website": "example.com",
    }
    [status] = sync(server, lead_record(email, attrs))
    lead = stored_leads(server.database_url, [status.lead_id])[status.lead_id]
    assert lead.values == {
        "LeadScore": 42,
        "AnnualRevenue": 1234.5,
        "DoNotCall": True,
        "Unsubscribed": False,
        "DateofBirth": "1980-02-29",
        "FirstName": "Ada",
        "Website": "example.com",
    }
    assert lead.email == email


def test_id_outranks_foreign_id_and_overwrites_it(server: Server) -> None:
    email = unique()
    [created] = sync(server, lead_record(email, fsp="fsp-old-" + email, fsp_type="CUSTOM"))
    [updated] = sync(
        server, lead_record(id=created.lead_id, fsp="fsp-new-" + email, fsp_type="SFDC")
    )
    assert (updated.lead_id, updated.status) == (created.lead_id, "UPDATED")
    lead = stored_leads(server.database_url, [created.lead_id])[created.lead_id]
    assert lead.foreign_sys_person_id == "fsp-new-" + email
    assert lead.foreign_sys_type == "SFDC"
    # The old foreign id is free again: using it alone creates a new lead.
    [again] = sync(server, lead_record(fsp="fsp-old-" + email))
    assert again.status == "CREATED"


def test_foreign_id_outranks_email(server: Server) -> None:
    email_a, email_b = unique(), unique()
    [a] = sync(server, lead_record(email_a, fsp="fsp-" + email_a))
    [b] = sync(server, lead_record(email_b))
    [got] = sync(server, lead_record(email_b, {"Title": "CTO"}, fsp="fsp-" + email_a))
    assert (got.lead_id, got.status) == (a.lead_id, "UPDATED")
    leads = stored_leads(server.database_url, [a.lead_id, b.lead_id])
    assert leads[a.lead_id].values["Title"] == "CTO"
    assert "Title" not in leads[b.lead_id].values


def test_top_level_email_is_only_a_key_unless_given_as_attribute(server: Server) -> None:
    email, other = unique(), unique()
    [created] = sync(server, lead_record(email))
    [s1] = sync(server, lead_record(other, {"City": "Lyon"}, id=created.lead_id))
    assert s1.status == "UPDATED"
    lead = stored_leads(server.database_url, [created.lead_id])[created.lead_id]
    assert (lead.email, lead.values["City"]) == (email, "Lyon")
    [s2] = sync(server, lead_record(other, {"Email": other}, id=created.lead_id))
    assert s2.status == "UPDATED"
    assert stored_leads(server.database_url, [created.lead_id])[created.lead_id].email == other


def test_email_attribute_on_foreign_id_match_changes_email(server: Server) -> None:
    email, new = unique(), unique()
    [created] = sync(server, lead_record(email, fsp="f-" + email))
    sync(server, lead_record(new, fsp="f-" + email))
    assert stored_leads(server.database_url, [created.lead_id])[created.lead_id].email == email
    sync(server, lead_record(None, {"Email": new}, fsp="f-" + email))
    assert stored_leads(server.database_url, [created.lead_id])[created.lead_id].email == new


@pytest.mark.parametrize("dedup", [None, "true", "True", "1"])
def test_dedup_on_or_absent_matches_by_email_case_insensitively(
    server: Server, dedup: str | None
) -> None:
    email = unique("Case")
    [created] = sync(server, lead_record(email), dedup=dedup)
    [again] = sync(server, lead_record(email.upper(), {"State": "CA"}), dedup=dedup)
    assert (again.lead_id, again.status) == (created.lead_id, "UPDATED")


@pytest.mark.parametrize("dedup", ["false", "False", "0"])
def test_dedup_off_creates_a_new_lead_per_email_record(server: Server, dedup: str) -> None:
    email = unique()
    [first] = sync(server, lead_record(email), dedup=dedup)
    [second] = sync(server, lead_record(email), dedup=dedup)
    assert (first.status, second.status) == ("CREATED", "CREATED")
    assert first.lead_id != second.lead_id


def test_dedup_off_still_matches_id_and_foreign_id(server: Server) -> None:
    email = unique()
    [created] = sync(server, lead_record(email, fsp="fx-" + email))
    by_id, by_fsp = sync(
        server,
        lead_record(email, id=created.lead_id),
        lead_record(email, fsp="fx-" + email),
        dedup="false",
    )
    assert (by_id.lead_id, by_id.status) == (created.lead_id, "UPDATED")
    assert (by_fsp.lead_id, by_fsp.status) == (created.lead_id, "UPDATED")


def test_the_most_recently_created_duplicate_wins(server: Server) -> None:
    email = unique()
    [older] = sync(server, lead_record(email), dedup="false")
    [newer] = sync(server, lead_record(email), dedup="false")
    assert newer.lead_id > older.lead_id
    [got] = sync(server, lead_record(email, {"Industry": "Tea"}))
    assert got.lead_id == newer.lead_id


def test_duplicate_new_email_inside_one_call_creates_one_lead(server: Server) -> None:
    email = unique()
    first, second = sync(
        server, lead_record(email, {"FirstName": "A"}), lead_record(email, {"LastName": "B"})
    )
    assert (first.status, second.status) == ("CREATED", "UPDATED")
    assert first.lead_id == second.lead_id
    lead = stored_leads(server.database_url, [first.lead_id])[first.lead_id]
    assert lead.values == {"FirstName": "A", "LastName": "B"}


def test_record_level_problems_fail_alone(server: Server) -> None:
    good_a, good_b, bad_value = unique(), unique(), unique()
    got = sync(
        server,
        lead_record(good_a),
        lead_record(None, {"City": "Nowhere"}, id=999_999_999),
        lead_record(None, {"City": "Nokey"}),
        lead_record(bad_value, {"LeadScore": "lots"}),
        lead_record(good_b),
    )
    assert [s.status for s in got] == ["CREATED", "FAILED", "FAILED", "FAILED", "CREATED"]
    assert [s.lead_id for s in got[1:4]] == [0, 0, 0]
    assert got[1].error
    assert "Lead not found" in got[1].error
    assert got[2].error
    assert "no key" in got[2].error
    assert got[3].error
    assert "LeadScore" in got[3].error
    # The failed record wrote nothing: its email is still unknown.
    [later] = sync(server, lead_record(bad_value))
    assert later.status == "CREATED"


def test_a_foreign_id_never_belongs_to_two_leads(server: Server) -> None:
    a, b = unique(), unique()
    [lead_a] = sync(server, lead_record(a, fsp="own-" + a))
    [lead_b] = sync(server, lead_record(b))
    [clash] = sync(server, lead_record(None, id=lead_b.lead_id, fsp="own-" + a))
    assert clash.status == "FAILED"
    assert clash.lead_id == lead_b.lead_id
    assert (
        stored_leads(server.database_url, [lead_a.lead_id])[lead_a.lead_id].foreign_sys_person_id
        == "own-" + a
    )


def test_unknown_attribute_faults_the_whole_call_before_writing(fresh_server: Server) -> None:
    got = fault(
        fresh_server.call(
            "syncMultipleLeads",
            sync_params(
                [lead_record(unique(), {"Company": "ok"}), lead_record(unique(), {"pants": "x"})]
            ),
        )
    )
    assert got.code == 20105
    assert got.faultstring == "20105 - Unknown lead field"
    assert "pants" in got.message
    assert count_leads(fresh_server.database_url) == 0


def test_bad_foreign_sys_type_fails_the_record(server: Server) -> None:
    [got] = sync(server, lead_record(unique(), fsp="t-" + unique(), fsp_type="ORACLE"))
    assert got.status == "FAILED"
    assert got.error
    assert "ForeignSysType" in got.error


def test_attribute_names_ignore_case_and_custom_fields_work(tmp_path: object) -> None:
    from pathlib import Path

    from inprocess import serving_app
    from support import cli

    tmp = Path(str(tmp_path))
    db = f"sqlite:///{tmp / 'c.db'}"
    assert cli("db", "upgrade", "--database", db).returncode == 0
    assert (
        cli("fields", "add", "Shoe_Size__c", "--type", "integer", "--database", db).returncode == 0
    )
    with serving_app(tmp, database_url=db) as srv:
        [s] = statuses(
            srv.call(
                "syncMultipleLeads",
                sync_params([lead_record("c@x.com", {"shoe_size__c": "44", "company": "Z"})]),
            )
        )
        lead = stored_leads(db, [s.lead_id])[s.lead_id]
        assert lead.values == {"Shoe_Size__c": 44, "Company": "Z"}


def test_an_id_out_of_range_fails_its_record_alone(server: Server) -> None:
    got = sync(server, lead_record(None, id=10**20), lead_record(unique()))
    assert [s.status for s in got] == ["FAILED", "CREATED"]
    assert got[0].lead_id == 0


def test_two_records_reaching_one_lead_by_different_keys_both_apply(server: Server) -> None:
    email = unique()
    [created] = sync(server, lead_record(email, fsp="two-" + email))
    got = sync(
        server,
        lead_record(None, {"City": "Metz"}, id=created.lead_id),
        lead_record(email, {"Title": "Dir"}),
        lead_record(None, {"State": "GE"}, fsp="two-" + email),
        lead_record(None, {"Fax": "1"}, id=created.lead_id, fsp="two-" + email),
    )
    assert [(s.lead_id, s.status) for s in got] == [(created.lead_id, "UPDATED")] * 4
    lead = stored_leads(server.database_url, [created.lead_id])[created.lead_id]
    assert lead.values == {"City": "Metz", "Title": "Dir", "State": "GE", "Fax": "1"}
