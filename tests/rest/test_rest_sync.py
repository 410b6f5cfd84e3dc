"""Sync Leads: actions, lookup fields, skipped reasons, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from restapp import Rest

from leadsync.model import FieldDef, FieldType
from leadsync.store.base import Store

LEADS = "/rest/v1/leads.json"


def sync(rest: Rest, records: list[Any], **body: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = rest.ok(rest.post(LEADS, json={**body, "input": records}))[
        "result"
    ]
    return result


def count(store: Store) -> int:
    with store.read() as reader:
        return reader.count_leads()


def test_create_or_update_in_input_order_dedupes_on_email(rest: Rest) -> None:
    first = sync(rest, [{"email": "a@x.com", "firstName": "A"}, {"email": "b@x.com"}])
    assert [r["status"] for r in first] == ["created", "created"]
    assert list(first[0]) == ["id", "status"]
    again = sync(rest, [{"email": "B@X.com", "lastName": "Bee"}, {"email": "c@x.com"}])
    assert again[0] == {"id": first[1]["id"], "status": "updated"}
    assert again[1]["status"] == "created"
    lead = rest.ok(rest.get(f"/rest/v1/lead/{first[1]['id']}.json"))["result"][0]
    assert lead["lastName"] == "Bee"
    assert lead["email"] == "B@X.com"


def test_unknown_top_level_keys_are_ignored(rest: Rest) -> None:
    out = sync(rest, [{"email": "k@x.com"}], **{"asyncProcessing ": False, "whatever": 1})
    assert out[0]["status"] == "created"


def test_create_only_update_only_and_duplicates(rest: Rest) -> None:
    made = sync(rest, [{"email": "d@x.com"}], action="createOnly")[0]
    assert made["status"] == "created"
    exists = sync(rest, [{"email": "d@x.com"}], action="createOnly")[0]
    assert exists == {
        "status": "skipped",
        "reasons": [{"code": "1005", "message": "Lead already exists"}],
    }
    missing = sync(rest, [{"email": "nobody@x.com"}], action="updateOnly")[0]
    assert missing["reasons"] == [{"code": "1004", "message": "Lead not found"}]
    twin = sync(rest, [{"email": "d@x.com"}], action="createDuplicate")[0]
    assert twin["status"] == "created"
    assert twin["id"] != made["id"]
    ambiguous = sync(rest, [{"email": "d@x.com", "firstName": "X"}])[0]
    assert ambiguous["reasons"] == [
        {"code": "1007", "message": "Multiple lead match lookup criteria"}
    ]
    assert count(rest.store) == 2


def test_lookup_by_id_updates_email_only_with_update_only(rest: Rest) -> None:
    lead_id = sync(rest, [{"email": "e@x.com"}])[0]["id"]
    out = sync(
        rest,
        [{"id": lead_id, "email": "e2@x.com", "firstName": "Eve"}, {"id": 999999}],
        action="updateOnly",
        lookupField="id",
    )
    assert out[0] == {"id": lead_id, "status": "updated"}
    assert out[1]["reasons"][0]["code"] == "1004"
    with_create = sync(rest, [{"id": lead_id}], action="createOnly", lookupField="id")[0]
    assert with_create["reasons"][0]["code"] == "1003"
    lead = rest.ok(rest.get(f"/rest/v1/lead/{lead_id}.json"))["result"][0]
    assert (lead["email"], lead["firstName"]) == ("e2@x.com", "Eve")


def test_bad_values_and_unknown_fields_skip_their_record_only(rest: Rest) -> None:
    rest.store.add_custom_field(FieldDef("boolean_field", FieldType.BOOLEAN, custom=True))
    out = sync(
        rest,
        [
            {"email": "f@x.com", "leadScore": "14.1"},
            {"email": "g@x.com", "boolean_field": "other"},
            {"email": "h@x.com", "noSuchField": "1"},
            {"email": "i@x.com", "dateOfBirth": "1990-02-03", "boolean_field": True},
            "not a record",
            {"firstName": "no key"},
        ],
    )
    assert out[0]["reasons"] == [
        {"code": "1003", "message": "Invalid value for field 'leadScore' and value '14.1'"}
    ]
    assert out[1]["reasons"] == [
        {"code": "1003", "message": "Invalid value for field 'boolean_field' and value 'other'"}
    ]
    assert out[2]["reasons"] == [{"code": "1006", "message": "Field 'noSuchField' not found"}]
    assert out[3]["status"] == "created"
    assert out[4]["reasons"][0]["code"] == "1003"
    assert out[5]["reasons"][0]["code"] == "1003"
    assert count(rest.store) == 1
    got = rest.ok(
        rest.get(
            LEADS,
            params={
                "filterType": "email",
                "filterValues": "i@x.com",
                "fields": "dateOfBirth,boolean_field",
            },
        )
    )
    [row] = got["result"]
    assert row == {"id": row["id"], "dateOfBirth": "1990-02-03", "boolean_field": True}


def test_null_clears_a_field(rest: Rest) -> None:
    lead_id = sync(rest, [{"email": "n@x.com", "lastName": "Smith"}])[0]["id"]
    sync(rest, [{"email": "n@x.com", "lastName": None}])
    lead = rest.ok(rest.get(f"/rest/v1/lead/{lead_id}.json"))["result"][0]
    assert lead["lastName"] is None


def test_request_level_errors_write_nothing(rest: Rest) -> None:
    too_many = [{"email": f"m{i}@x.com"} for i in range(301)]
    assert rest.error(rest.post(LEADS, json={"input": too_many})) == "1003"
    assert rest.error(rest.post(LEADS, json={"input": []})) == "701"
    assert rest.error(rest.post(LEADS, json={"input": {"email": "x"}})) == "1003"
    assert rest.error(rest.post(LEADS, json={"input": [{}], "action": "explode"})) == "1001"
    assert rest.error(rest.post(LEADS, json={"input": [{}], "lookupField": "firstName"})) == "1011"
    bad_json = rest.post(
        LEADS, content=b'{"input": [', headers={"Content-Type": "application/json"}
    )
    assert rest.error(bad_json) == "609"
    wrong_type = rest.post(LEADS, content=b"{}", headers={"Content-Type": "text/plain"})
    assert rest.error(wrong_type) == "612"
    assert count(rest.store) == 0


def test_other_partition_is_skipped_with_1008(rest: Rest) -> None:
    out = sync(rest, [{"email": "p@x.com"}], partitionName="Europe")
    assert out[0]["reasons"][0]["code"] == "1008"
    assert sync(rest, [{"email": "p@x.com"}], partitionName="default")[0]["status"] == "created"


def test_unicode_and_sql_metacharacters_are_data(rest: Rest) -> None:
    weird = "Robert'); DROP TABLE leads;-- ✓ 日本"
    lead_id = sync(rest, [{"email": "u@x.com", "company": weird}])[0]["id"]
    got = rest.ok(rest.get(f"/rest/v1/lead/{lead_id}.json", params={"fields": "company"}))
    assert got["result"] == [{"id": lead_id, "company": weird}]
    out = sync(rest, [{"email": "v@x.com", "first'Name\"; --": "x"}])
    assert out[0]["reasons"][0]["code"] == "1006"


def test_wrong_value_types_and_characters_skip_their_record(rest: Rest) -> None:
    out = sync(
        rest,
        [
            {"email": "w1@x.com", "firstName": ["a", "b"]},
            {"email": "w2@x.com", "firstName": {"nested": 1}},
            {"email": "w3@x.com", "firstName": "bell\x07"},
            {"email": "w4@x.com", "leadScore": True},
            {"email": "w5@x.com", "firstName": "x" * 256},
            {"email": 42},
            {"email": "w7@x.com", "firstName": "ok", "leadScore": 7},
        ],
    )
    assert [r["status"] for r in out] == ["skipped"] * 6 + ["created"]
    assert {r["reasons"][0]["code"] for r in out[:6]} == {"1003"}
    assert count(rest.store) == 1


def test_a_two_megabyte_body_is_refused_whole(rest: Rest) -> None:
    records = [{"email": f"big{i}@x.com", "title": "x" * 200} for i in range(10_000)]
    answer = rest.post(LEADS, json={"input": records})
    assert answer.status_code == 413
    assert count(rest.store) == 0


def test_custom_lookup_fields_and_filters(rest: Rest) -> None:
    rest.store.add_custom_field(FieldDef("externalKey", FieldType.STRING, custom=True))
    rest.store.add_custom_field(FieldDef("erpNumber", FieldType.INTEGER, custom=True))
    rest.store.add_custom_field(FieldDef("notes", FieldType.TEXT, custom=True))
    made = sync(
        rest,
        [{"externalKey": "K-1", "firstName": "A"}, {"externalKey": "K-2"}],
        lookupField="externalKey",
    )
    assert [r["status"] for r in made] == ["created", "created"]
    again = sync(
        rest,
        [{"externalKey": "K-1", "lastName": "B"}, {"firstName": "no key"}],
        lookupField="externalKey",
    )
    assert again[0] == {"id": made[0]["id"], "status": "updated"}
    assert again[1]["reasons"][0]["code"] == "1003"
    by_number = sync(
        rest, [{"erpNumber": 7, "email": "n@x.com"}], lookupField="erpNumber", action="createOnly"
    )
    assert by_number[0]["status"] == "created"
    twice = sync(rest, [{"erpNumber": "7"}], lookupField="erpNumber", action="createOnly")
    assert twice[0]["reasons"][0]["code"] == "1005"
    found = rest.ok(
        rest.get(
            LEADS,
            params={
                "filterType": "externalKey",
                "filterValues": "K-1,K-2",
                "fields": "externalKey,lastName",
            },
        )
    )
    assert [{k: v for k, v in row.items() if k != "id"} for row in found["result"]] == [
        {"externalKey": "K-1", "lastName": "B"},
        {"externalKey": "K-2", "lastName": None},
    ]
    numbers = rest.ok(rest.get(LEADS, params={"filterType": "erpNumber", "filterValues": "7"}))
    assert [x["id"] for x in numbers["result"]] == [by_number[0]["id"]]
    assert (
        rest.error(rest.get(LEADS, params={"filterType": "notes", "filterValues": "x"})) == "1011"
    )
    assert rest.error(rest.post(LEADS, json={"input": [{}], "lookupField": "notes"})) == "1011"
    [desc2] = rest.ok(rest.get("/rest/v1/leads/describe2.json"))["result"]
    assert ["externalKey"] in desc2["searchableFields"]
    assert ["notes"] not in desc2["searchableFields"]


@pytest.mark.parametrize(
    "field",
    ["twitterId", "facebookId", "linkedInId", "sfdcAccountId", "sfdcLeadOwnerId", "sfdcOpptyId"],
)
def test_lookup_fields_leadsync_holds_no_values_of_are_1011(rest: Rest, field: str) -> None:
    record = {"email": "social@x.com", field: "x1"}
    answer = rest.post(LEADS, json={"lookupField": field, "input": [record]})
    assert rest.error(answer) == "1011"
    message = answer.json()["errors"][0]["message"]
    assert message == f"Lookup field '{field}' not supported"
    with rest.store.read() as reader:
        assert reader.count_leads() == 0


@pytest.mark.parametrize("lookup", ["sfdcLeadId", "sfdcContactId"])
def test_a_foreign_id_lookup_matches_the_leads_foreign_system_person_id(
    rest: Rest, lookup: str
) -> None:
    made = sync(rest, [{lookup: "00Q-1", "email": "sf@x.com"}], lookupField=lookup)
    assert made[0]["status"] == "created"
    again = sync(rest, [{lookup: "00Q-1", "firstName": "Sam"}], lookupField=lookup)
    assert again[0] == {"id": made[0]["id"], "status": "updated"}
    missing = sync(rest, [{"email": "nokey@x.com"}], lookupField=lookup)
    assert missing[0]["reasons"][0]["code"] == "1003"
    with rest.store.read() as reader:
        lead = reader.leads_by_foreign_ids(["00Q-1"])["00Q-1"]
    assert (lead.id, lead.email, lead.values.get("FirstName")) == (made[0]["id"], "sf@x.com", "Sam")
