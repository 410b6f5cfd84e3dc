"""Activity history: every recorded type, getLeadActivity and getLeadChanges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from lxml import etree

from inprocess import running_clock, serving_app
from leadapi import (
    ActivityRow,
    activities,
    body_of,
    create,
    is_nil,
    key_selector,
    key_xml,
    list_operation,
    list_selector,
    strings,
    sync,
    unique,
    updated_selector,
    w3c,
)
from leadsync.operations.activities import WSDL_ACTIVITY_TYPES
from support import REPO, Server, cli, fault, lead_record


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving_app(tmp_path_factory.mktemp("history"), clock=running_clock()) as server:
        yield server


def lead_activity(
    server: Server,
    lead_id: int,
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    offset: str | None = None,
    batch: int | None = None,
) -> httpx.Response:
    params = key_xml("IDNUM", lead_id)
    if include is not None or exclude is not None:
        inner = ""
        if include is not None:
            inner += strings("includeTypes", include, "activityType")
        if exclude is not None:
            inner += strings("excludeTypes", exclude, "activityType")
        params += f"<activityFilter>{inner}</activityFilter>"
    if offset is not None:
        params += f"<startPosition><offset>{offset}</offset></startPosition>"
    if batch is not None:
        params += f"<batchSize>{batch}</batchSize>"
    return server.call("getLeadActivity", params)


def read_activity(response: httpx.Response) -> tuple[list[ActivityRow], int, etree._Element]:
    found = body_of(response, "getLeadActivity").find("leadActivityList")
    assert found is not None
    assert [c.tag for c in found] == [
        "returnCount",
        "remainingCount",
        "newStartPosition",
        "activityRecordList",
    ]
    rows = activities(found.find("activityRecordList"), "activityRecord")
    assert int(found.findtext("returnCount") or "-1") == len(rows)
    position = found.find("newStartPosition")
    assert position is not None
    return rows, int(found.findtext("remainingCount") or "-1"), position


def all_activity(server: Server, lead_id: int) -> list[ActivityRow]:
    return read_activity(lead_activity(server, lead_id))[0]


def changes(
    server: Server,
    *,
    oldest: str | None = None,
    latest: str | None = None,
    offset: str | None = None,
    names: list[str] | None = None,
    batch: int | None = None,
    lead_selector: str = "",
) -> httpx.Response:
    start = ""
    if latest is not None:
        start += f"<latestCreatedAt>{latest}</latestCreatedAt>"
    if oldest is not None:
        start += f"<oldestCreatedAt>{oldest}</oldestCreatedAt>"
    if offset is not None:
        start += f"<offset>{offset}</offset>"
    params = f"<startPosition>{start}</startPosition>"
    if names is not None:
        params += strings("activityNameFilter", names)
    if batch is not None:
        params += f"<batchSize>{batch}</batchSize>"
    return server.call("getLeadChanges", params + lead_selector)


def read_changes(response: httpx.Response) -> tuple[list[ActivityRow], int, str]:
    result = body_of(response, "getLeadChanges").find("result")
    assert result is not None
    assert [c.tag for c in result] == [
        "returnCount",
        "remainingCount",
        "newStartPosition",
        "leadChangeRecordList",
    ]
    rows = activities(result.find("leadChangeRecordList"), "leadChangeRecord")
    assert int(result.findtext("returnCount") or "-1") == len(rows)
    return (
        rows,
        int(result.findtext("remainingCount") or "-1"),
        result.findtext("newStartPosition/offset") or "",
    )


def add_list(server: Server, name: str) -> None:
    done = cli("lists", "add", name, "--database", server.database_url)
    assert done.returncode == 0, done.stderr


# -- what is recorded --------------------------------------------------------------------
def test_new_lead(srv: Server) -> None:
    [made] = sync(srv, lead_record(unique(), {"FirstName": "Ann"}))
    [row] = all_activity(srv, made.lead_id)
    assert row.type == "New Lead"
    assert row.asset in ("", None)
    assert row.attrs == {
        "Source Type": "Web service API",
        "Source Info": "Web service API",
        "Created Date": row.when[:10],
        "Lead ID": str(made.lead_id),
    }
    assert row.lead_id == made.lead_id


def test_change_data_value_has_old_and_new_values(srv: Server) -> None:
    email = unique()
    [made] = sync(srv, lead_record(email, {"LeadScore": "5", "FirstName": "Ann"}))
    sync(srv, lead_record(email, {"LeadScore": "6", "FirstName": "Ann", "City": "Lyon"}))
    rows = all_activity(srv, made.lead_id)
    assert [r.type for r in rows] == ["Change Data Value", "Change Data Value", "New Lead"]
    by_field = {r.attrs["Attribute Name"]: r for r in rows[:2]}
    assert set(by_field) == {"Lead Score", "City"}
    assert by_field["Lead Score"].asset == "Lead Score"
    assert by_field["Lead Score"].attrs == {
        "Attribute Name": "Lead Score",
        "Old Value": "5",
        "New Value": "6",
        "Reason": "SOAP API",
        "Lead ID": str(made.lead_id),
    }
    assert (by_field["City"].attrs["Old Value"], by_field["City"].attrs["New Value"]) == (
        "",
        "Lyon",
    )
    # Newest first, ids only grow.
    assert [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)


def test_an_email_change_is_recorded(srv: Server) -> None:
    old, new = unique(), unique()
    [made] = sync(srv, lead_record(old))
    sync(srv, lead_record(None, {"Email": new}, id=made.lead_id))
    [change, _] = all_activity(srv, made.lead_id)
    assert (change.attrs["Attribute Name"], change.attrs["Old Value"]) == ("Email Address", old)
    assert change.attrs["New Value"] == new


def test_a_write_that_changes_nothing_records_nothing(srv: Server) -> None:
    email = unique()
    [made] = sync(srv, lead_record(email, {"City": "Lyon"}))
    sync(srv, lead_record(email, {"City": "Lyon"}))
    assert [r.type for r in all_activity(srv, made.lead_id)] == ["New Lead"]


def test_a_faulted_call_records_nothing(srv: Server) -> None:
    email = unique()
    [made] = sync(srv, lead_record(email, {"City": "Lyon"}))
    bad = lead_record(email, {"City": "Paris", "pants": "x"})
    assert fault(srv.call("syncMultipleLeads", f"<leadRecordList>{bad}</leadRecordList>")).code
    assert [r.type for r in all_activity(srv, made.lead_id)] == ["New Lead"]


def test_list_membership_changes(srv: Server) -> None:
    add_list(srv, "History.List")
    [lead_id] = create(srv, 1)
    list_operation(srv, "ADDTOLIST", "History.List", [lead_id])
    list_operation(srv, "ADDTOLIST", "History.List", [lead_id])  # already a member: no entry
    list_operation(srv, "REMOVEFROMLIST", "History.List", [lead_id])
    rows = all_activity(srv, lead_id)
    assert [r.type for r in rows] == ["Remove from List", "Add to List", "New Lead"]
    assert {r.asset for r in rows[:2]} == {"History.List"}
    assert rows[1].attrs["Lead ID"] == str(lead_id)


def test_skip_activity_log(srv: Server) -> None:
    add_list(srv, "History.Quiet")
    [lead_id] = create(srv, 1)
    extra = "<skipActivityLog>true</skipActivityLog>"
    list_operation(srv, "ADDTOLIST", "History.Quiet", [lead_id], extra=extra)
    assert [r.type for r in all_activity(srv, lead_id)] == ["New Lead"]


def test_merge_leads(srv: Server) -> None:
    winner, loser = create(srv, 2)
    sync(srv, lead_record(None, {"Title": "CEO"}, id=loser))
    params = (
        "<winningLeadKeyList><attribute><attrName>IDNUM</attrName>"
        f"<attrValue>{winner}</attrValue></attribute></winningLeadKeyList>"
        "<losingLeadKeyLists><keyList><attribute><attrName>IDNUM</attrName>"
        f"<attrValue>{loser}</attrValue></attribute></keyList></losingLeadKeyLists>"
    )
    body_of(srv.call("mergeLeads", params), "mergeLeads")
    rows = all_activity(srv, winner)
    assert rows[0].type == "Merge Leads"
    assert rows[0].attrs["Merge IDs"] == str(loser)
    filled = rows[1]
    assert (filled.type, filled.attrs["Attribute Name"], filled.attrs["Reason"]) == (
        "Change Data Value",
        "Job Title",
        "Merge Leads",
    )
    # The loser's history now belongs to the winner.
    assert sum(1 for r in rows if r.type == "New Lead") == 2


# -- getLeadActivity ---------------------------------------------------------------------
def test_type_filters(srv: Server) -> None:
    email = unique()
    [made] = sync(srv, lead_record(email, {"City": "A"}))
    sync(srv, lead_record(email, {"City": "B"}))
    only_new = read_activity(lead_activity(srv, made.lead_id, include=["NewLead"]))[0]
    assert [r.type for r in only_new] == ["New Lead"]
    no_new = read_activity(lead_activity(srv, made.lead_id, exclude=["newlead"]))[0]
    assert [r.type for r in no_new] == ["Change Data Value"]
    never = read_activity(lead_activity(srv, made.lead_id, include=["VisitWebpage"]))[0]
    assert never == []


def test_both_include_and_exclude_is_20110(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    response = lead_activity(srv, lead_id, include=["NewLead"], exclude=["ChangeDataValue"])
    assert fault(response).code == 20110


def test_unknown_activity_type_is_20107(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    assert fault(lead_activity(srv, lead_id, include=["NewLead", "Teleport"])).code == 20107


def test_paging_newest_first(srv: Server) -> None:
    email = unique()
    [made] = sync(srv, lead_record(email, {"LeadScore": "0"}))
    for score in range(1, 6):
        sync(srv, lead_record(email, {"LeadScore": str(score)}))
    every = all_activity(srv, made.lead_id)
    assert len(every) == 6
    seen: list[int] = []
    offset = None
    remaining = []
    while True:
        rows, left, position = read_activity(
            lead_activity(srv, made.lead_id, offset=offset, batch=4)
        )
        seen += [r.id for r in rows]
        remaining.append(left)
        offset = position.findtext("offset")
        if not left:
            break
    assert seen == [r.id for r in every]
    assert remaining == [2, 0]
    assert offset == f"ID:{every[-1].id}"


def test_get_lead_activity_batch_is_capped_at_100(srv: Server) -> None:
    email = unique()
    [made] = sync(srv, lead_record(email, {"LeadScore": "0"}))
    # One call, one record per change.
    sync(srv, *(lead_record(email, {"LeadScore": str(score)}) for score in range(1, 106)))
    rows, left, _ = read_activity(lead_activity(srv, made.lead_id, batch=500))
    assert (len(rows), left) == (100, 6)


def test_unknown_lead_is_20103(srv: Server) -> None:
    assert fault(lead_activity(srv, 999_999_999)).code == 20103


def test_bad_offset_is_20122(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    assert fault(lead_activity(srv, lead_id, offset="somewhere")).code == 20122


def test_start_position_is_echoed_with_nils(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    _, _, position = read_activity(lead_activity(srv, lead_id))
    assert [c.tag for c in position] == [
        "latestCreatedAt",
        "oldestCreatedAt",
        "activityCreatedAt",
        "offset",
    ]
    assert all(is_nil(c) for c in position[:3])


# -- getLeadChanges ----------------------------------------------------------------------
def test_changes_in_a_window_page_by_offset_alone(srv: Server) -> None:
    start = w3c(srv.clock.now())
    srv.clock.advance(seconds=0.002)
    email = unique()
    [made] = sync(srv, lead_record(email))
    for city in ("A", "B", "C", "D"):
        sync(srv, lead_record(email, {"City": city}))
    rows, left, offset = read_changes(changes(srv, oldest=start, batch=2))
    assert ([r.type for r in rows], left) == (["New Lead", "Change Data Value"], 3)
    assert offset == f"ID:{rows[-1].id}"
    seen = list(rows)
    while left:
        # As embulk does: only the offset, nothing else.
        page, left, offset = read_changes(changes(srv, offset=offset, batch=2))
        seen += page
    assert [r.lead_id for r in seen] == [made.lead_id] * 5
    assert [r.attrs.get("New Value") for r in seen[1:]] == ["A", "B", "C", "D"]
    assert [r.id for r in seen] == sorted(r.id for r in seen)
    # At the end the offset stays put, ready for the next poll.
    assert read_changes(changes(srv, offset=offset)) == ([], 0, offset)


def test_activity_name_filter(srv: Server) -> None:
    start = w3c(srv.clock.now())
    srv.clock.advance(seconds=0.002)
    email = unique()
    sync(srv, lead_record(email))
    sync(srv, lead_record(email, {"City": "X"}))
    rows = read_changes(changes(srv, oldest=start, names=["change data value"]))[0]
    assert [r.type for r in rows] == ["Change Data Value"]
    assert read_changes(changes(srv, oldest=start, names=["Visit Webpage"]))[0] == []
    rows = read_changes(changes(srv, oldest=start, names=["New Lead", "Change Data Value"]))[0]
    assert len(rows) == 2


def test_latest_created_at_bounds_the_window(srv: Server) -> None:
    start = w3c(srv.clock.now())
    srv.clock.advance(seconds=0.002)
    create(srv, 2)
    srv.clock.advance(seconds=0.002)
    end = w3c(srv.clock.now())
    srv.clock.advance(seconds=0.002)
    create(srv, 1)
    assert len(read_changes(changes(srv, oldest=start, latest=end))[0]) == 2


def test_more_than_30_days_is_20022(srv: Server) -> None:
    start = srv.clock.now() - timedelta(days=31)
    assert fault(changes(srv, oldest=w3c(start), latest=w3c(srv.clock.now()))).code == 20022
    selector = updated_selector(start, srv.clock.now())
    assert fault(changes(srv, lead_selector=selector)).code == 20022


def test_lead_selectors(srv: Server) -> None:
    start = w3c(srv.clock.now())
    srv.clock.advance(seconds=0.002)
    a, b, c = create(srv, 3)
    by_keys = read_changes(changes(srv, oldest=start, lead_selector=key_selector("IDNUM", [a, c])))
    assert [r.lead_id for r in by_keys[0]] == [a, c]
    add_list(srv, "Changes.List")
    list_operation(srv, "ADDTOLIST", "Changes.List", [b])
    by_list = read_changes(changes(srv, oldest=start, lead_selector=list_selector("Changes.List")))
    assert [r.type for r in by_list[0]] == ["New Lead", "Add to List"]
    assert {r.lead_id for r in by_list[0]} == {b}
    by_time = read_changes(changes(srv, lead_selector=updated_selector(start)))
    assert {r.lead_id for r in by_time[0]} >= {a, b, c}


def test_more_than_100_keys_is_20110(srv: Server) -> None:
    selector = key_selector("IDNUM", range(1, 102))
    assert fault(changes(srv, oldest=w3c(srv.clock.now()), lead_selector=selector)).code == 20110


def test_unknown_list_is_20111(srv: Server) -> None:
    assert fault(changes(srv, lead_selector=list_selector("No.Such"))).code == 20111


def test_bad_offset_in_changes_is_20122(srv: Server) -> None:
    assert fault(changes(srv, offset="ID:x")).code == 20122


def test_change_records_follow_the_schema(srv: Server) -> None:
    start = w3c(srv.clock.now())
    srv.clock.advance(seconds=0.002)
    create(srv, 1)
    result = body_of(changes(srv, oldest=start), "getLeadChanges")
    [record] = result.iter("leadChangeRecord")
    assert [c.tag for c in record] == [
        "id",
        "activityDateTime",
        "activityType",
        "mktgAssetName",
        "activityAttributes",
        "mktPersonId",
    ]
    assert all(is_nil(a.find("attrType")) for a in record.iter("attribute"))


def test_activity_types_match_the_wsdl() -> None:
    wsdl = etree.parse(str(REPO / "src" / "leadsync" / "soap" / "mktows.wsdl"))
    xsd = "{http://www.w3.org/2001/XMLSchema}"
    [enum] = [el for el in wsdl.iter(f"{xsd}simpleType") if el.get("name") == "ActivityType"]
    values = tuple(e.get("value") for e in enum.iter(f"{xsd}enumeration"))
    assert values == WSDL_ACTIVITY_TYPES


def test_activity_records_follow_the_schema(srv: Server) -> None:
    [lead_id] = create(srv, 1)
    found = body_of(lead_activity(srv, lead_id), "getLeadActivity")
    [record] = found.iter("activityRecord")
    assert [c.tag for c in record] == [
        "id",
        "activityDateTime",
        "activityType",
        "mktgAssetName",
        "activityAttributes",
        "campaign",
        "personName",
        "mktPersonId",
        "foreignSysId",
        "orgName",
        "foreignSysOrgId",
    ]
