"""REST limits (606, 607) per instance and fault rules on REST calls, in process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from restapp import Rest, make_rest

from leadsync.config import Settings
from leadsync.limits.faults import parse_rules
from leadsync.limits.policy import DayClock, quota_zone
from leadsync.operations import rest_stats
from leadsync.rest.request import RestRequest
from leadsync.rest.routes import rest_operations
from leadsync.store.base import Store

PATH = "/rest/v1/leads/partitions.json"


@pytest.fixture
def limited(store: Store) -> Iterator[Rest]:
    yield from make_rest(store, Settings(rest_rate_limit="2/20s", rest_daily_quota=3))


def test_rate_then_quota_with_marketo_wording(limited: Rest) -> None:
    for _ in range(5):
        limited.authenticate()  # identity calls are not counted
    limited.ok(limited.get(PATH))
    limited.ok(limited.get(PATH))
    answer = limited.get(PATH)
    assert limited.error(answer) == "606"
    assert answer.json()["errors"][0]["message"] == "Max rate limit '2' exceeded with in '20' secs"


def test_daily_quota_is_607_and_refuses_before_writing(store: Store) -> None:
    for rest in make_rest(store, Settings(rest_daily_quota=1)):
        rest.ok(rest.post("/rest/v1/leads.json", json={"input": [{"email": "a@x.com"}]}))
        answer = rest.post("/rest/v1/leads.json", json={"input": [{"email": "b@x.com"}]})
        assert rest.error(answer) == "607"
        with store.read() as reader:
            assert reader.count_leads() == 1


def test_soap_limits_leave_rest_alone(store: Store) -> None:
    for rest in make_rest(store, Settings(daily_quota=1)):
        for _ in range(3):
            rest.ok(rest.get(PATH))


def test_fault_rules_answer_rest_calls_with_rest_codes(store: Store) -> None:
    rules = parse_rules(
        "op=syncLeads,code=606,times=1; op=getPartitions,code=601,times=1",
        operations=rest_operations(),
    )
    store.faults().add(rules)
    for rest in make_rest(store, Settings(admin_token="t0ken")):
        assert rest.error(rest.get(PATH)) == "601"
        rest.ok(rest.get(PATH))
        sync = rest.post("/rest/v1/leads.json", json={"input": [{"email": "f@x.com"}]})
        assert rest.error(sync) == "606"
        with store.read() as reader:
            assert reader.count_leads() == 0
        rest.ok(rest.post("/rest/v1/leads.json", json={"input": [{"email": "f@x.com"}]}))


def test_rest_operation_names_are_their_own() -> None:
    from leadsync.soap.wsdl import wsdl_operations

    assert not set(rest_operations()) & set(wsdl_operations())
    assert {"syncLeads", "getLeadsByFilter", "deleteLeads", "mergeLeadsById"} <= set(
        rest_operations()
    )


def test_usage_and_errors_come_from_the_limit_counters(store: Store) -> None:
    for rest in make_rest(store, Settings(rest_rate_limit="2/20s")):
        rest.ok(rest.get(PATH))
        [today] = rest.ok(rest.get("/rest/v1/stats/usage.json"))["result"]
        assert today["total"] == 1
        assert today["users"] == [{"userId": "tests@leadsync", "count": 1}]
        assert rest.error(rest.get(PATH)) == "606"
        days = DayClock(quota_zone(Settings()))
        [stats] = rest_stats.usage(store, "@rest", days, rest.clock, 1)
        assert stats.calls == 2
        assert stats.errors == {"606": 1}


def test_last_seven_days(rest: Rest) -> None:
    week = rest.ok(rest.get("/rest/v1/stats/errors/last7days.json"))["result"]
    assert len(week) == 7
    assert week[0] == {"date": week[0]["date"], "total": 0, "errors": []}
    usage = rest.ok(rest.get("/rest/v1/stats/usage/last7days.json"))["result"]
    assert [d["total"] for d in usage] == [1, 0, 0, 0, 0, 0, 0]
    assert [d["date"] for d in usage] == sorted((d["date"] for d in usage), reverse=True)


def _get(token: str) -> RestRequest:
    return RestRequest("GET", PATH, authorization=f"Bearer {token}")


def test_concurrency_counts_calls_from_their_admission(store: Store) -> None:
    for rest in make_rest(store, Settings(rest_concurrency_limit=1)):
        service = rest.api

        first = service.open(_get(rest.token))
        assert not isinstance(first, tuple)
        refused = service.open(_get(rest.token))
        assert isinstance(refused, tuple)
        body = refused[2]
        assert b'"code":"615"' in body
        assert b"Concurrent access limit '1' reached" in body
        assert b'"success":true' in service.run(first)[2]
        again = service.open(_get(rest.token))
        assert not isinstance(again, tuple)
        service.abandon(again)


def test_admin_usage_shows_rest_against_rests_limits_and_codes(store: Store) -> None:
    settings = Settings(rest_rate_limit="2/20s", rate_limit="50/60s", admin_token="t0ken")
    for rest in make_rest(store, settings):
        rest.ok(rest.get(PATH))
        rest.ok(rest.get(PATH))
        assert rest.error(rest.get(PATH)) == "606"
        answer = rest.http.get("/admin/usage?user=@rest", headers={"Authorization": "Bearer t0ken"})
    [row] = answer.json()["usage"]
    assert (row["user"], row["calls_today"], row["calls_in_window"]) == ("@rest", 2, 2)
    assert row["rejects"] == {"607": 0, "606": 1, "615": 0}
    assert (row["limits"]["rate_calls"], row["limits"]["rate_window_ms"]) == (2, 20_000)


def test_admin_limits_of_the_rest_subject_are_rests(store: Store) -> None:
    settings = Settings(rest_rate_limit="2/20s", rate_limit="50/60s", admin_token="t0ken")
    auth = {"Authorization": "Bearer t0ken"}
    for rest in make_rest(store, settings):
        store.add_user("soap_user", "k")
        shown = rest.http.get("/admin/users/@rest/limits", headers=auth).json()
        soap = rest.http.get("/admin/users/soap_user/limits", headers=auth).json()
    assert (shown["effective"]["rate_calls"], shown["effective"]["rate_window_ms"]) == (2, 20_000)
    assert (soap["effective"]["rate_calls"], soap["effective"]["rate_window_ms"]) == (50, 60_000)
