"""Static lists over REST, the same lists SOAP's listOperation sees."""

from __future__ import annotations

from restapp import Rest

from leadsync.operations.lists import create_list
from support import envelope

LEADS = "/rest/v1/leads.json"


def make(rest: Rest, count: int) -> list[int]:
    records = [{"email": f"l{i}@x.com"} for i in range(count)]
    return [r["id"] for r in rest.ok(rest.post(LEADS, json={"input": records}))["result"]]


def test_lists_and_list_by_id(rest: Rest) -> None:
    one = create_list(rest.store, "Lions")
    two = create_list(rest.store, "Tigers")
    got = rest.ok(rest.get("/rest/v1/lists.json"))["result"]
    assert [(x["id"], x["name"], x["workspaceName"]) for x in got] == [
        (one.id, "Lions", "Default"),
        (two.id, "Tigers", "Default"),
    ]
    named = rest.ok(rest.get("/rest/v1/lists.json", params={"name": "tigers"}))["result"]
    assert [x["id"] for x in named] == [two.id]
    tunnelled = rest.ok(rest.post("/rest/v1/lists.json", data={"_method": "GET", "id": one.id}))
    assert [x["id"] for x in tunnelled["result"]] == [one.id]
    assert rest.ok(rest.get(f"/rest/v1/lists/{one.id}.json"))["result"][0]["name"] == "Lions"
    assert rest.ok(rest.get("/rest/v1/lists/4242.json"))["result"] == []


def test_add_remove_member_of_in_both_wire_forms(rest: Rest) -> None:
    a, b, c = make(rest, 3)
    lst = create_list(rest.store, "Static")
    path = f"/rest/v1/lists/{lst.id}/leads.json"
    added = rest.ok(rest.post(path, json={"input": [{"id": a}, {"id": 4242}]}))["result"]
    assert added == [
        {"id": a, "status": "added"},
        {
            "id": 4242,
            "status": "skipped",
            "reasons": [{"code": "1004", "message": "Lead not found"}],
        },
    ]
    by_query = rest.ok(rest.post(f"{path}?id={b}&id={c}"))["result"]
    assert [x["status"] for x in by_query] == ["added", "added"]
    member = rest.ok(
        rest.post(
            f"/rest/v1/lists/{lst.id}/leads/ismember.json",
            params={"_method": "GET"},
            json={"input": [{"id": a}, {"id": 4242}]},
        )
    )["result"]
    assert [x["status"] for x in member] == ["memberof", "skipped"]
    removed = rest.ok(rest.request("DELETE", f"{path}?id={a},{a + 1000}"))["result"]
    assert removed[0] == {"id": a, "status": "removed"}
    assert removed[1]["reasons"][0]["code"] == "1004"
    again = rest.ok(rest.request("DELETE", path, json={"input": [{"id": a}]}))["result"]
    assert again == [
        {"id": a, "status": "skipped", "reasons": [{"code": "1015", "message": "Lead not in list"}]}
    ]
    query = rest.ok(rest.get(f"/rest/v1/lists/{lst.id}/leads/ismember.json?id={a}&id={b}"))
    assert [x["status"] for x in query["result"]] == ["notmemberof", "memberof"]
    assert rest.error(rest.post("/rest/v1/lists/4242/leads.json", json={"input": [{"id": a}]})) == (
        "1013"
    )


def test_leads_by_list_under_both_paths_and_tunnelled(rest: Rest) -> None:
    ids = make(rest, 5)
    lst = create_list(rest.store, "Paged")
    rest.ok(
        rest.post(f"/rest/v1/lists/{lst.id}/leads.json", json={"input": [{"id": i} for i in ids]})
    )
    first = rest.ok(rest.get(f"/rest/v1/lists/{lst.id}/leads.json", params={"batchSize": 3}))
    assert [x["id"] for x in first["result"]] == ids[:3]
    token = first["nextPageToken"]
    second = rest.ok(
        rest.post(
            f"/rest/v1/list/{lst.id}/leads.json",
            params={"_method": "GET", "nextPageToken": token},
            data={"fields": "email", "batchSize": "3"},
        )
    )
    assert second["result"] == [
        {"id": ids[3], "email": "l3@x.com"},
        {"id": ids[4], "email": "l4@x.com"},
    ]
    assert "nextPageToken" not in second
    form = rest.ok(
        rest.post(f"/rest/v1/list/{lst.id}/leads.json", data={"listId": lst.id, "_method": "GET"})
    )
    assert len(form["result"]) == 5


def test_soap_list_operation_sees_rest_members(rest: Rest) -> None:
    from support import DEMO_KEY, DEMO_USER

    rest.store.add_user(DEMO_USER, DEMO_KEY)
    [lead] = make(rest, 1)
    lst = create_list(rest.store, "Shared")
    rest.ok(rest.post(f"/rest/v1/lists/{lst.id}/leads.json", json={"input": [{"id": lead}]}))
    params = (
        "<listOperation>ISMEMBEROFLIST</listOperation>"
        "<listKey><keyType>MKTOLISTNAME</keyType><keyValue>Shared</keyValue></listKey>"
        f"<listMemberList><leadKey><keyType>IDNUM</keyType><keyValue>{lead}</keyValue></leadKey>"
        "</listMemberList>"
    )
    stamp = rest.clock.now().isoformat(timespec="seconds")
    body = envelope("listOperation", params, timestamp=stamp)
    answer = rest.http.post(
        "/soap/mktows/2_2", content=body.encode(), headers={"Content-Type": "text/xml"}
    )
    assert answer.status_code == 200, answer.text
    assert "<status>true</status>" in answer.text
