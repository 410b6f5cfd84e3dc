"""Get Leads by filter and by id, describe, describe2."""

from __future__ import annotations

from typing import Any

from restapp import Rest

from leadsync.model import FieldDef, FieldType

LEADS = "/rest/v1/leads.json"


def make(rest: Rest, count: int, prefix: str = "r") -> list[int]:
    records = [{"email": f"{prefix}{i}@x.com", "firstName": f"F{i}"} for i in range(count)]
    result = rest.ok(rest.post(LEADS, json={"input": records}))["result"]
    return [r["id"] for r in result]


def by_filter(rest: Rest, **params: Any) -> dict[str, Any]:
    return rest.ok(rest.get(LEADS, params=params))


def test_default_fields_in_marketo_order_with_nulls(rest: Rest) -> None:
    [lead_id] = make(rest, 1)
    got = by_filter(rest, filterType="email", filterValues="R0@X.COM")
    assert list(got) == ["requestId", "result", "success"]
    [lead] = got["result"]
    assert list(lead) == ["id", "email", "updatedAt", "createdAt", "firstName", "lastName"]
    assert lead["id"] == lead_id
    assert lead["lastName"] is None
    assert lead["createdAt"] == "2026-12-02T12:00:00Z"


def test_requested_fields_in_requested_order(rest: Rest) -> None:
    make(rest, 1)
    got = by_filter(rest, filterType="email", filterValues="r0@x.com", fields="lastName,id,email")
    assert list(got["result"][0]) == ["lastName", "id", "email"]
    assert rest.error(rest.get(LEADS, params={**_f("r0@x.com"), "fields": "nope"})) == "1006"


def _f(values: str) -> dict[str, str]:
    return {"filterType": "email", "filterValues": values}


def test_post_with_method_get_in_a_form_body(rest: Rest) -> None:
    ids = make(rest, 3)
    form = {"_method": "GET", "filterType": "id", "filterValues": ",".join(map(str, ids))}
    got = rest.ok(rest.post(LEADS, data=form))
    assert [lead["id"] for lead in got["result"]] == ids


def test_paging_with_next_page_token(rest: Rest) -> None:
    ids = make(rest, 5)
    values = ",".join(f"r{i}@x.com" for i in range(5))
    first = by_filter(rest, filterType="email", filterValues=values, batchSize="2")
    seen = [lead["id"] for lead in first["result"]]
    token = first["nextPageToken"]
    while token:
        page = by_filter(
            rest, filterType="email", filterValues=values, batchSize="2", nextPageToken=token
        )
        seen += [lead["id"] for lead in page["result"]]
        token = page.get("nextPageToken")
    assert seen == ids


def test_filter_errors(rest: Rest) -> None:
    assert rest.error(rest.get(LEADS, params={"filterType": "createdAt", "filterValues": "x"})) == (
        "1011"
    )
    many = ",".join(str(i) for i in range(301))
    assert rest.error(rest.get(LEADS, params={"filterType": "id", "filterValues": many})) == "1003"
    assert rest.error(rest.get(LEADS, params={"filterType": "id"})) == "1002"
    assert by_filter(rest, filterType="email", filterValues="none@x.com")["result"] == []
    assert by_filter(rest, filterType="twitterId", filterValues="x")["result"] == []


def test_more_than_1000_matches_is_1003(rest: Rest) -> None:
    records = [{"email": "same@x.com"} for _ in range(300)]
    for _ in range(4):
        rest.ok(rest.post(LEADS, json={"input": records, "action": "createDuplicate"}))
    answer = rest.get(LEADS, params=_f("same@x.com"))
    assert rest.error(answer) == "1003"
    assert answer.json()["errors"][0]["message"] == "Too many results match the filter"


def test_get_by_id(rest: Rest) -> None:
    [lead_id] = make(rest, 1)
    got = rest.ok(rest.get(f"/rest/v1/lead/{lead_id}.json", params={"fields": "email"}))
    # The id comes first though not asked for, as in Marketo's answers.
    assert got["result"] == [{"id": lead_id, "email": "r0@x.com"}]
    assert list(got["result"][0]) == ["id", "email"]
    assert rest.ok(rest.get("/rest/v1/lead/424242.json"))["result"] == []
    assert rest.error(rest.get("/rest/v1/lead/abc.json")) == "1001"


def test_describe_names_both_apis_from_the_catalogue(rest: Rest) -> None:
    rest.store.add_custom_field(FieldDef("shoeSize", FieldType.INTEGER, custom=True))
    result = rest.ok(rest.get("/rest/v1/leads/describe.json"))["result"]
    by_rest = {row["rest"]["name"]: row for row in result if "rest" in row}
    assert by_rest["firstName"]["soap"]["name"] == "FirstName"
    assert by_rest["firstName"]["id"] == 53
    assert by_rest["dateOfBirth"]["soap"]["name"] == "DateofBirth"
    assert by_rest["dateOfBirth"]["dataType"] == "date"
    assert by_rest["email"]["soap"]["name"] == "Email"
    assert by_rest["shoeSize"]["soap"] == {"name": "shoeSize", "readOnly": False}
    assert by_rest["createdAt"]["rest"]["readOnly"] is True
    assert "soap" not in by_rest["createdAt"]
    assert len({row["id"] for row in result}) == len(result)


def test_describe2_has_searchable_fields(rest: Rest) -> None:
    [result] = rest.ok(rest.get("/rest/v1/leads/describe2.json"))["result"]
    assert result["name"] == "API Lead"
    assert ["email"] in result["searchableFields"]
    names = {f["name"] for f in result["fields"]}
    assert {"email", "firstName", "id", "updatedAt"} <= names
