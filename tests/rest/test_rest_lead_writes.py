"""Delete (three wire forms), merge, associate, listMembership."""

from __future__ import annotations

from typing import Any

from restapp import Rest

from leadsync.operations.lists import create_list
from leadsync.store.base import ActivityQuery

LEADS = "/rest/v1/leads.json"


def make(rest: Rest, *emails: str, **fields: Any) -> list[int]:
    records = [{"email": e, **fields} for e in emails]
    return [r["id"] for r in rest.ok(rest.post(LEADS, json={"input": records}))["result"]]


def exists(rest: Rest, lead_id: int) -> bool:
    return bool(rest.ok(rest.get(f"/rest/v1/lead/{lead_id}.json"))["result"])


def test_delete_in_three_wire_forms(rest: Rest) -> None:
    a, b, c, d = make(rest, "a@x.com", "b@x.com", "c@x.com", "d@x.com")
    one = rest.ok(rest.post("/rest/v1/leads/delete.json", json={"input": [{"id": a}, {"id": 999}]}))
    assert one["result"] == [
        {"id": a, "status": "deleted"},
        {
            "id": 999,
            "status": "skipped",
            "reasons": [{"code": "1004", "message": "Lead not found"}],
        },
    ]
    two = rest.ok(rest.post(LEADS, params={"_method": "DELETE"}, json={"input": [{"id": b}]}))
    assert two["result"] == [{"id": b, "status": "deleted"}]
    three = rest.ok(rest.request("DELETE", LEADS, json={"input": [{"id": c}]}))
    assert three["result"] == [{"id": c, "status": "deleted"}]
    by_query = rest.ok(rest.post("/rest/v1/leads/delete.json", params={"id": str(d)}))
    assert by_query["result"] == [{"id": d, "status": "deleted"}]
    assert not any(exists(rest, i) for i in (a, b, c, d))
    with rest.store.read() as reader:
        kinds = [x.type for x in reader.activities(ActivityQuery(lead_ids=(a,)), 10)]
    assert kinds == ["NewLead", "DeleteLead"]
    assert rest.error(rest.post("/rest/v1/leads/delete.json", json={"input": [{"id": "x"}]})) == (
        "1001"
    )


def test_merge_uses_the_soap_rule(rest: Rest) -> None:
    winner, loser = make(rest, "w@x.com", "l@x.com")
    rest.ok(rest.post(LEADS, json={"input": [{"email": "l@x.com", "title": "CTO"}]}))
    body = rest.ok(rest.post(f"/rest/v1/leads/{winner}/merge.json", params={"leadId": loser}))
    assert list(body) == ["requestId", "success"]
    got = rest.ok(rest.get(f"/rest/v1/lead/{winner}.json", params={"fields": "title"}))
    assert got["result"] == [{"id": winner, "title": "CTO"}]
    assert not exists(rest, loser)


def test_merge_errors(rest: Rest) -> None:
    [winner] = make(rest, "m@x.com")
    answer = rest.post(f"/rest/v1/leads/{winner}/merge.json")
    assert rest.error(answer) == "1003"
    assert answer.json()["errors"][0]["message"] == "Losing lead ids not specified"
    many = ",".join(str(i) for i in range(1000, 1026))
    assert rest.error(rest.post(f"/rest/v1/leads/{winner}/merge.json?leadIds={many}")) == "1080"
    assert rest.error(rest.post(f"/rest/v1/leads/{winner}/merge.json?leadId=4242")) == "1004"
    assert rest.error(rest.post(f"/rest/v1/leads/{winner}/merge.json?leadId={winner}")) == "1003"


def test_associate_sets_the_cookie_soap_and_filters_see(rest: Rest) -> None:
    first, second = make(rest, "c1@x.com", "c2@x.com")
    cookie = "id:287-GTJ-838&token:_mch-marketo.com-1396310362214-46169"
    rest.ok(rest.post(f"/rest/v1/leads/{first}/associate.json", params={"cookie": cookie}))
    found = rest.ok(rest.get(LEADS, params={"filterType": "cookies", "filterValues": cookie}))
    assert [lead["id"] for lead in found["result"]] == [first]
    rest.ok(rest.post(f"/rest/v1/leads/{second}/associate.json", params={"cookie": cookie}))
    found = rest.ok(rest.get(LEADS, params={"filterType": "cookies", "filterValues": cookie}))
    assert [lead["id"] for lead in found["result"]] == [second]
    assert rest.error(rest.post(f"/rest/v1/leads/{first}/associate.json")) == "1012"
    assert rest.error(rest.post("/rest/v1/leads/4242/associate.json?cookie=x")) == "1004"


def test_list_membership(rest: Rest) -> None:
    [lead] = make(rest, "lm@x.com")
    one = create_list(rest.store, "One")
    create_list(rest.store, "Two")
    rest.ok(rest.post(f"/rest/v1/lists/{one.id}/leads.json", json={"input": [{"id": lead}]}))
    got = rest.ok(rest.get(f"/rest/v1/leads/{lead}/listMembership.json"))
    assert [m["listId"] for m in got["result"]] == [one.id]
    assert got["moreResult"] is False
    assert rest.error(rest.get("/rest/v1/leads/4242/listMembership.json")) == "1004"
