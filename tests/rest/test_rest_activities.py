"""Activities over REST: types, paging tokens, activities, lead changes, deletes."""

from __future__ import annotations

import base64
from typing import Any

from restapp import Rest

from leadsync.operations.lists import create_list

LEADS = "/rest/v1/leads.json"


def token(rest: Rest, since: str = "2026-12-01T00:00:00Z") -> str:
    body = rest.ok(
        rest.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": since})
    )
    assert list(body) == ["requestId", "success", "nextPageToken"]
    value: str = body["nextPageToken"]
    return value


def read_all(rest: Rest, path: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params["nextPageToken"] = token(rest)
    while True:
        body = rest.ok(rest.get(path, params=params))
        assert "moreResult" in body
        rows += body.get("result", [])
        if body["moreResult"] is False:
            return rows
        params["nextPageToken"] = body["nextPageToken"]


def test_types_have_marketo_ids(rest: Rest) -> None:
    result = rest.ok(rest.get("/rest/v1/activities/types.json"))["result"]
    names = {row["id"]: row["name"] for row in result}
    assert names == {
        12: "New Lead",
        13: "Change Data Value",
        24: "Add to List",
        25: "Remove from List",
        32: "Merge Leads",
        37: "Delete Lead",
    }


def test_paging_token_is_marketo_shaped_and_bad_dates_are_1001(rest: Rest) -> None:
    decoded = base64.b32decode(token(rest, "2008-11-06T00:00:00Z")).decode()
    assert decoded == "2008-11-06T00:00:00.000+0000,0"
    bad = rest.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "2015-04-0113"})
    assert rest.error(bad) == "1001"


def test_activities_pages_and_filters(rest: Rest) -> None:
    ids = [
        r["id"]
        for r in rest.ok(
            rest.post(LEADS, json={"input": [{"email": f"a{i}@x.com"} for i in range(5)]})
        )["result"]
    ]
    rest.ok(rest.post(LEADS, json={"input": [{"email": "a0@x.com", "firstName": "Zed"}]}))
    rows = read_all(rest, "/rest/v1/activities.json", activityTypeIds="12,13", batchSize=2)
    assert [(r["leadId"], r["activityTypeId"]) for r in rows] == [
        *[(i, 12) for i in ids],
        (ids[0], 13),
    ]
    change = rows[-1]
    assert change["primaryAttributeValue"] == "First Name"
    assert change["primaryAttributeValueId"] == 53
    assert {"name": "New Value", "value": "Zed"} in change["attributes"]
    only = read_all(rest, "/rest/v1/activities.json", activityTypeIds="13", leadIds=str(ids[1]))
    assert only == []
    assert (
        rest.error(
            rest.get(
                "/rest/v1/activities.json",
                params={
                    "nextPageToken": token(rest),
                    "activityTypeIds": ",".join(str(i) for i in range(11)),
                },
            )
        )
        == "1003"
    )
    assert (
        rest.error(
            rest.get(
                "/rest/v1/activities.json", params={"nextPageToken": "!!", "activityTypeIds": "12"}
            )
        )
        == "1001"
    )


def test_list_activities_and_list_filter(rest: Rest) -> None:
    [lead] = [
        r["id"] for r in rest.ok(rest.post(LEADS, json={"input": [{"email": "l@x.com"}]}))["result"]
    ]
    lst = create_list(rest.store, "Acts")
    rest.ok(rest.post(f"/rest/v1/lists/{lst.id}/leads.json", json={"input": [{"id": lead}]}))
    rows = read_all(rest, "/rest/v1/activities.json", activityTypeIds="24", listId=str(lst.id))
    assert [
        (r["activityTypeId"], r["primaryAttributeValueId"], r["primaryAttributeValue"])
        for r in rows
    ] == [(24, lst.id, "Acts")]


def test_lead_changes_and_deleted_leads(rest: Rest) -> None:
    [lead] = [
        r["id"] for r in rest.ok(rest.post(LEADS, json={"input": [{"email": "c@x.com"}]}))["result"]
    ]
    rest.ok(
        rest.post(LEADS, json={"input": [{"email": "c@x.com", "firstName": "A", "title": "T"}]})
    )
    rows = read_all(rest, "/rest/v1/activities/leadchanges.json", fields="firstName")
    assert [r["activityTypeId"] for r in rows] == [12, 13]
    assert rows[1]["fields"] == [{"id": 53, "name": "firstName", "newValue": "A", "oldValue": ""}]
    assert (
        rest.error(
            rest.get("/rest/v1/activities/leadchanges.json", params={"nextPageToken": token(rest)})
        )
        == "1002"
    )
    rest.ok(rest.post("/rest/v1/leads/delete.json", json={"input": [{"id": lead}]}))
    deleted = read_all(rest, "/rest/v1/activities/deletedleads.json")
    assert [(r["leadId"], r["activityTypeId"], r["primaryAttributeValueId"]) for r in deleted] == [
        (lead, 37, lead)
    ]
