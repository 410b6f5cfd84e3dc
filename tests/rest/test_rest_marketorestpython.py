"""marketorestpython 0.5.25, unmodified but for its host, against a real server process on
each backend, started by the pytest plugin (``leadsync.testing.start_server``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from marketorestpython.client import MarketoClient

from backends import BACKENDS, postgres_database, skip_postgres
from leadsync.testing import LeadsyncServer, start_server
from support import run_cli


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LeadsyncServer]:
    folder = tmp_path_factory.mktemp("mrp")
    if request.param == "sqlite":
        started = start_server(folder)
        try:
            yield started
        finally:
            started.stop()
        return
    if skip_postgres():
        pytest.skip("LEADSYNC_TEST_SKIP_POSTGRES=1")
    with postgres_database() as url:
        started = start_server(folder, database_url=url)
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture
def mc(server: LeadsyncServer) -> MarketoClient:
    server.reset()
    client = MarketoClient("123-ABC-456", server.client_id, server.client_secret)
    # The one change: where the client finds Marketo.
    client.host = server.base_url
    return client


def test_plugin_exposes_the_rest_credentials(server: LeadsyncServer) -> None:
    assert server.rest_url == server.base_url + "/rest"
    assert server.identity_url == server.base_url + "/identity"
    assert server.client_id
    assert server.client_secret


def test_sync_get_describe(mc: MarketoClient) -> None:
    created = mc.execute(
        method="create_update_leads",
        leads=[{"email": "ann@x.com", "firstName": "Ann"}, {"email": "bob@x.com"}],
        action="createOrUpdate",
        lookupField="email",
        asyncProcessing=False,
    )
    assert [r["status"] for r in created] == ["created", "created"]
    ann = created[0]["id"]
    [lead] = mc.execute(method="get_lead_by_id", id=ann, fields=["email", "firstName"])
    assert lead == {"id": ann, "email": "ann@x.com", "firstName": "Ann"}
    found = mc.execute(
        method="get_multiple_leads_by_filter_type",
        filterType="email",
        filterValues=["ann@x.com", "bob@x.com"],
        fields=["id", "lastName"],
        batchSize=1,
    )
    assert [x["id"] for x in found] == [r["id"] for r in created]
    assert found[0]["lastName"] is None
    described = mc.execute(method="describe")
    pairs = {
        row["rest"]["name"]: row.get("soap", {}).get("name") for row in described if "rest" in row
    }
    assert pairs["dateOfBirth"] == "DateofBirth"
    [desc2] = mc.execute(method="describe2")
    assert ["email"] in desc2["searchableFields"]
    assert mc.execute(method="get_lead_partitions")[0]["name"] == "Default"


def test_delete_merge_associate(mc: MarketoClient) -> None:
    ids = [
        r["id"]
        for r in mc.execute(
            method="create_update_leads", leads=[{"email": f"m{i}@x.com"} for i in range(3)]
        )
    ]
    mc.execute(method="merge_lead", id=ids[0], leadIds=[ids[1]])
    assert mc.execute(method="get_lead_by_id", id=ids[1]) == []
    assert (
        mc.execute(method="associate_lead", id=ids[0], cookie="id:123-ABC-456&token:_mch-x-1")
        is True
    )
    deleted = mc.execute(method="delete_lead", id=[ids[2]])
    assert deleted == [{"id": ids[2], "status": "deleted"}]
    gone = mc.execute(method="get_deleted_leads", sinceDatetime="2020-01-01T00:00:00Z")
    assert [x["leadId"] for x in gone] == [ids[2]]


def test_lists(mc: MarketoClient, server: LeadsyncServer) -> None:
    done = run_cli("lists", "add", "MRP list", "--database", server.database_url)
    assert done.returncode == 0, done.stderr
    lists = mc.execute(method="get_multiple_lists", name="MRP list")
    [static] = lists
    ids = [
        r["id"]
        for r in mc.execute(
            method="create_update_leads", leads=[{"email": f"l{i}@x.com"} for i in range(3)]
        )
    ]
    added = mc.execute(method="add_leads_to_list", listId=static["id"], id=ids)
    assert {x["status"] for x in added} == {"added"}
    member = mc.execute(method="member_of_list", listId=static["id"], id=[ids[0], 999999])
    assert [x["status"] for x in member] == ["memberof", "skipped"]
    removed = mc.execute(method="remove_leads_from_list", listId=static["id"], id=[ids[0]])
    assert removed == [{"id": ids[0], "status": "removed"}]
    members = mc.execute(
        method="get_multiple_leads_by_list_id", listId=static["id"], fields=["email"], batchSize=1
    )
    assert [x["email"] for x in members] == ["l1@x.com", "l2@x.com"]


def test_activities(mc: MarketoClient) -> None:
    [lead] = [
        r["id"] for r in mc.execute(method="create_update_leads", leads=[{"email": "act@x.com"}])
    ]
    mc.execute(method="create_update_leads", leads=[{"email": "act@x.com", "firstName": "Act"}])
    types = {t["id"]: t["name"] for t in mc.execute(method="get_activity_types")}
    assert types[12] == "New Lead"
    rows = mc.execute(
        method="get_lead_activities", activityTypeIds=["12", "13"], sinceDatetime="2020-01-01"
    )
    assert [(r["leadId"], r["activityTypeId"]) for r in rows] == [(lead, 12), (lead, 13)]
    changes = mc.execute(
        method="get_lead_changes", fields=["firstName"], sinceDatetime="2020-01-01"
    )
    assert changes[-1]["fields"][0]["newValue"] == "Act"


def test_bad_credentials_and_bad_dates_surface_as_errors(server: LeadsyncServer) -> None:
    bad = MarketoClient("123-ABC-456", server.client_id, "wrong")
    bad.host = server.base_url
    with pytest.raises(Exception, match="Bad client credentials"):
        bad.execute(method="get_lead_by_id", id=1)
    good = MarketoClient("123-ABC-456", server.client_id, server.client_secret)
    good.host = server.base_url
    with pytest.raises(Exception, match="1001") as raised:
        good.execute(method="get_paging_token", sinceDatetime="2015-04-0113")
    error: Any = raised.value.args[0]
    assert error["code"] == "1001"


@pytest.mark.parametrize("code", ["601", "602"])
def test_reauthenticates_and_retries_on_token_errors(
    mc: MarketoClient, server: LeadsyncServer, code: str
) -> None:
    [made] = mc.execute(method="create_update_leads", leads=[{"email": f"t{code}@x.com"}])
    server.inject(f"op=getLeadById,code={code},times=1")
    [lead] = mc.execute(method="get_lead_by_id", id=made["id"], fields=["email"])
    assert lead == {"id": made["id"], "email": f"t{code}@x.com"}
    [rule] = server.faults()
    assert rule["fired"] == 1


@pytest.mark.parametrize(("code", "op"), [("606", "syncLeads"), ("615", "getLeadsByFilter")])
def test_retries_on_rate_and_concurrency_limits(
    mc: MarketoClient, server: LeadsyncServer, code: str, op: str
) -> None:
    server.inject(f"op={op},code={code},times=1")
    created = mc.execute(method="create_update_leads", leads=[{"email": f"r{code}@x.com"}])
    found = mc.execute(
        method="get_multiple_leads_by_filter_type",
        filterType="email",
        filterValues=[f"r{code}@x.com"],
    )
    assert [x["id"] for x in found] == [created[0]["id"]]
    [rule] = server.faults()
    assert rule["fired"] == 1
    assert server.leads(email=f"r{code}@x.com")[0]["id"] == created[0]["id"]


def test_marketo_limits_are_per_instance(
    leadsync_server_factory: Callable[..., LeadsyncServer],
) -> None:
    import httpx

    limited = leadsync_server_factory("--marketo-limits", "--rest-rate", "2/60s")
    grant = {
        "grant_type": "client_credentials",
        "client_id": limited.client_id,
        "client_secret": limited.client_secret,
    }
    token = httpx.get(limited.identity_url + "/oauth/token", params=grant).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    answers = [
        httpx.get(limited.rest_url + "/v1/leads/partitions.json", headers=headers).json()
        for _ in range(3)
    ]
    assert [a["success"] for a in answers] == [True, True, False]
    assert answers[2]["errors"] == [
        {"code": "606", "message": "Max rate limit '2' exceeded with in '60' secs"}
    ]
    assert "REST limits per instance: 50000 calls a day" in limited.log()


def test_usage_endpoints(mc: MarketoClient) -> None:
    mc.execute(method="get_lead_partitions")
    [today] = mc.execute(method="get_daily_usage")
    assert today["total"] >= 1
    assert len(mc.execute(method="get_last_7_days_usage")) == 7
    # Earlier tests of the module answered errors (fault rules): each is counted by code.
    [errors] = mc.execute(method="get_daily_errors")
    assert errors["total"] == sum(e["count"] for e in errors["errors"])
    assert all(isinstance(e["errorCode"], str) for e in errors["errors"])


def test_tokens_and_limits_hold_across_workers(
    leadsync_server_factory: Callable[..., LeadsyncServer],
) -> None:
    import httpx

    server = leadsync_server_factory("--workers", "2", "--rest-rate", "6/60s")
    grant = {
        "grant_type": "client_credentials",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
    }
    tokens = {
        httpx.post(server.identity_url + "/oauth/token", data=grant).json()["access_token"]
        for _ in range(4)
    }
    [token] = tokens
    headers = {"Authorization": f"Bearer {token}"}
    answers = []
    for _ in range(7):
        # A new connection each time, so that both workers take calls.
        with httpx.Client() as client:
            answers.append(
                client.get(server.rest_url + "/v1/leads/partitions.json", headers=headers).json()
            )
    assert [a["success"] for a in answers] == [True] * 6 + [False]
    assert answers[6]["errors"][0]["code"] == "606"
