"""SOAP and REST on one database: the same leads, ids, dedupe and history."""

from __future__ import annotations

from restapp import Rest

from leadsync.store.base import Store
from support import DEMO_KEY, DEMO_USER, envelope, lead_record, statuses, sync_params


def soap_sync(rest: Rest, *records: str) -> list[int]:
    stamp = rest.clock.now().isoformat(timespec="seconds")
    body = envelope("syncMultipleLeads", sync_params(list(records)), timestamp=stamp)
    answer = rest.http.post(
        "/soap/mktows/2_2", content=body.encode(), headers={"Content-Type": "text/xml"}
    )
    return [status.lead_id for status in statuses(answer)]


def add_user(store: Store) -> None:
    store.add_user(DEMO_USER, DEMO_KEY)


def test_soap_lead_is_the_same_lead_over_rest(rest: Rest) -> None:
    add_user(rest.store)
    [lead_id] = soap_sync(
        rest, lead_record("x@y.com", {"FirstName": "Ann", "DateofBirth": "1980-01-02"})
    )
    got = rest.ok(
        rest.get(f"/rest/v1/lead/{lead_id}.json", params={"fields": "email,firstName,dateOfBirth"})
    )
    assert got["result"] == [
        {"id": lead_id, "email": "x@y.com", "firstName": "Ann", "dateOfBirth": "1980-01-02"}
    ]
    # REST dedupes onto the SOAP lead, and SOAP onto the REST one.
    out = rest.ok(rest.post("/rest/v1/leads.json", json={"input": [{"email": "X@Y.com"}]}))
    assert out["result"] == [{"id": lead_id, "status": "updated"}]
    made = rest.ok(rest.post("/rest/v1/leads.json", json={"input": [{"email": "r@y.com"}]}))
    rest_id = made["result"][0]["id"]
    assert soap_sync(rest, lead_record("R@y.com", {"LastName": "Roe"})) == [rest_id]
    with rest.store.read() as reader:
        assert reader.count_leads() == 2


def test_one_activity_history(rest: Rest) -> None:
    add_user(rest.store)
    [lead_id] = soap_sync(rest, lead_record("h@y.com"))
    rest.ok(
        rest.post("/rest/v1/leads.json", json={"input": [{"email": "h@y.com", "title": "CEO"}]})
    )
    from leadsync.store.base import ActivityQuery

    with rest.store.read() as reader:
        types = [a.type for a in reader.activities(ActivityQuery(lead_ids=(lead_id,)), 10)]
    assert types == ["NewLead", "ChangeDataValue"]
