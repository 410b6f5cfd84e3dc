"""zeep, suds and PHP's SoapClient read back what they wrote, page, and use listOperation.

Each client is set up only from the WSDL the server serves, so a shape that differs from
the schema breaks its decoding here rather than in somebody's integration.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import zeep
from suds.client import Client as SudsClient

from leadsync.mktows.signing import sign
from support import Server, cli

MKTOWS = "http://www.marketo.com/mktows/"
PHP_SCRIPT = Path(__file__).parent / "php" / "lead_api_roundtrip.php"
_n = itertools.count()


def tag(client: str) -> str:
    return f"{client}-api-{next(_n)}-{os.getpid()}"


def new_list(server: Server, name: str) -> None:
    done = cli("lists", "add", name, "--database", server.database_url)
    assert done.returncode == 0, done.stderr


def assert_read_once(pages: list[list[int]], ids: list[int]) -> None:
    """Every lead written shows up once, in id order (the window may hold earlier tests' leads,
    since it starts a second early to allow for clients that drop fractions of a second)."""
    seen = [i for page in pages for i in page]
    assert seen == sorted(set(seen))
    assert seen[-len(ids) :] == ids


def timestamp() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


# -- zeep --------------------------------------------------------------------------------
@pytest.fixture
def zeep_client(server: Server) -> Iterator[Any]:
    client = zeep.Client(server.endpoint + "?WSDL")  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.transport.session.close()


def zeep_call(client: Any, server: Server, operation: str, **params: Any) -> Any:
    ts = timestamp()
    header = client.get_element(f"{{{MKTOWS}}}AuthenticationHeader")(
        mktowsUserId=server.user_id,
        requestSignature=sign(server.key, ts, server.user_id),
        requestTimestamp=ts,
    )
    return getattr(client.service, operation)(_soapheaders=[header], **params)


def zeep_pages(client: Any, server: Server, selector: Any) -> tuple[list[list[int]], list[int]]:
    pages: list[list[int]] = []
    remaining: list[int] = []
    position = None
    while True:
        result = zeep_call(
            client,
            server,
            "getMultipleLeads",
            leadSelector=selector,
            batchSize=2,
            streamPosition=position,
        )
        records = result.leadRecordList.leadRecord if result.leadRecordList else []
        pages.append([r.Id for r in records])
        remaining.append(result.remainingCount)
        position = result.newStreamPosition
        if not result.remainingCount:
            return pages, remaining


def test_zeep_reads_back_pages_and_uses_lists(zeep_client: Any, server: Server) -> None:
    client = zeep_client
    prefix = tag("zeep")
    since = datetime.now(UTC) - timedelta(seconds=1)
    emails = [f"{prefix}-{i}@example.com" for i in range(5)]
    records = [
        {
            "Email": email,
            "leadAttributeList": {
                "attribute": [
                    {"attrName": "FirstName", "attrValue": f"Zeep{i}"},
                    {"attrName": "LeadScore", "attrValue": str(i)},
                ]
            },
        }
        for i, email in enumerate(emails)
    ]
    synced = zeep_call(client, server, "syncMultipleLeads", leadRecordList={"leadRecord": records})
    # zeep unwraps a result with a single child: this is the syncStatusList.
    ids = [s.leadId for s in synced.syncStatus]

    got = zeep_call(client, server, "getLead", leadKey={"keyType": "EMAIL", "keyValue": emails[2]})
    assert got.count == 1
    [lead] = got.leadRecordList.leadRecord
    assert (lead.Id, lead.Email, lead.ForeignSysPersonId) == (ids[2], emails[2], None)
    assert [(a.attrName, a.attrType, a.attrValue) for a in lead.leadAttributeList.attribute] == [
        ("FirstName", "string", "Zeep2"),
        ("LeadScore", "integer", "2"),
    ]

    by_keys = client.get_type(f"{{{MKTOWS}}}LeadKeySelector")(
        keyType="EMAIL", keyValues={"stringItem": emails}
    )
    assert zeep_pages(client, server, by_keys) == ([ids[:2], ids[2:4], ids[4:]], [3, 1, 0])
    by_time = client.get_type(f"{{{MKTOWS}}}LastUpdateAtSelector")(oldestUpdatedAt=since)
    pages, _ = zeep_pages(client, server, by_time)
    assert_read_once(pages, ids)

    name = prefix + ".list"
    new_list(server, name)
    list_key = {"keyType": "MKTOLISTNAME", "keyValue": name}
    added = zeep_call(
        client,
        server,
        "listOperation",
        listOperation="ADDTOLIST",
        listKey=list_key,
        listMemberList={"leadKey": [{"keyType": "IDNUM", "keyValue": str(i)} for i in ids[:2]]},
        strict=False,
    )
    assert added.success is True
    # A nil statusList: zeep reads it as an empty array.
    assert not (added.statusList and added.statusList.leadStatus)
    member = zeep_call(
        client,
        server,
        "listOperation",
        listOperation="ISMEMBEROFLIST",
        listKey=list_key,
        listMemberList={"leadKey": [{"keyType": "IDNUM", "keyValue": str(i)} for i in ids[:3]]},
    )
    assert member.success is False
    assert [(s.leadKey.keyValue, s.status) for s in member.statusList.leadStatus] == [
        (str(ids[0]), True),
        (str(ids[1]), True),
        (str(ids[2]), False),
    ]
    by_list = client.get_type(f"{{{MKTOWS}}}StaticListSelector")(staticListName=name)
    assert zeep_pages(client, server, by_list) == ([ids[:2]], [0])


def test_zeep_filters_lead_changes_by_activity_name(zeep_client: Any, server: Server) -> None:
    client = zeep_client
    email = tag("zeep") + "@example.com"
    since = datetime.now(UTC) - timedelta(seconds=1)
    for city in ("Lyon", "Nice"):
        record = {
            "Email": email,
            "leadAttributeList": {"attribute": [{"attrName": "City", "attrValue": city}]},
        }
        zeep_call(client, server, "syncMultipleLeads", leadRecordList={"leadRecord": [record]})
    result = zeep_call(
        client,
        server,
        "getLeadChanges",
        startPosition={"oldestCreatedAt": since},
        activityNameFilter={"stringItem": ["Change Data Value"]},
        batchSize=100,
    )
    changes = result.leadChangeRecordList.leadChangeRecord
    mine = [
        c for c in changes if any(a.attrValue == "Nice" for a in c.activityAttributes.attribute)
    ]
    assert [c.activityType for c in changes] == ["Change Data Value"] * len(changes)
    assert len(mine) == 1
    assert result.newStartPosition.offset == f"ID:{changes[-1].id}"


# -- suds --------------------------------------------------------------------------------
@pytest.fixture
def suds_client(server: Server) -> Any:
    return SudsClient(server.endpoint + "?WSDL", cache=None)


def suds_auth(client: Any, server: Server) -> None:
    ts = timestamp()
    header = client.factory.create("AuthenticationHeader")
    header.mktowsUserId = server.user_id
    header.requestSignature = sign(server.key, ts, server.user_id)
    header.requestTimestamp = ts
    client.set_options(soapheaders=header)


def suds_pages(client: Any, server: Server, selector: Any) -> tuple[list[list[int]], list[int]]:
    pages: list[list[int]] = []
    remaining: list[int] = []
    position = None
    while True:
        suds_auth(client, server)
        result = client.service.getMultipleLeads(
            leadSelector=selector, batchSize=2, streamPosition=position
        )
        records = getattr(result.leadRecordList, "leadRecord", []) if result.leadRecordList else []
        pages.append([int(r.Id) for r in records])
        remaining.append(int(result.remainingCount))
        position = result.newStreamPosition
        if not int(result.remainingCount):
            return pages, remaining


def test_suds_reads_back_pages_and_uses_lists(suds_client: Any, server: Server) -> None:
    client = suds_client
    prefix = tag("suds")
    since = datetime.now(UTC) - timedelta(seconds=1)
    emails = [f"{prefix}-{i}@example.com" for i in range(5)]
    records = []
    for i, email in enumerate(emails):
        rec = client.factory.create("LeadRecord")
        rec.Email = email
        attr = client.factory.create("Attribute")
        attr.attrName, attr.attrValue = "Company", f"Suds{i}"
        attrs = client.factory.create("ArrayOfAttribute")
        attrs.attribute = [attr]
        rec.leadAttributeList = attrs
        records.append(rec)
    record_list = client.factory.create("ArrayOfLeadRecord")
    record_list.leadRecord = records
    suds_auth(client, server)
    synced = client.service.syncMultipleLeads(leadRecordList=record_list, dedupEnabled=True)
    ids = [int(s.leadId) for s in synced.syncStatusList.syncStatus]

    key = client.factory.create("LeadKey")
    key.keyType, key.keyValue = "IDNUM", str(ids[3])
    suds_auth(client, server)
    got = client.service.getLead(leadKey=key)
    assert int(got.count) == 1
    [lead] = got.leadRecordList.leadRecord
    assert (int(lead.Id), lead.Email) == (ids[3], emails[3])
    [attr] = lead.leadAttributeList.attribute
    assert (attr.attrName, attr.attrType, attr.attrValue) == ("Company", "string", "Suds3")

    by_keys = client.factory.create("LeadKeySelector")
    by_keys.keyType = "IDNUM"
    values = client.factory.create("ArrayOfString")
    values.stringItem = [str(i) for i in ids]
    by_keys.keyValues = values
    assert suds_pages(client, server, by_keys) == ([ids[:2], ids[2:4], ids[4:]], [3, 1, 0])
    by_time = client.factory.create("LastUpdateAtSelector")
    by_time.oldestUpdatedAt = since
    pages, _ = suds_pages(client, server, by_time)
    assert_read_once(pages, ids)

    name = prefix + ".list"
    new_list(server, name)
    list_key = client.factory.create("ListKey")
    list_key.keyType, list_key.keyValue = "MKTOLISTNAME", name
    members = client.factory.create("ArrayOfLeadKey")
    leads = []
    for lead_id in ids[:3]:
        member = client.factory.create("LeadKey")
        member.keyType, member.keyValue = "IDNUM", str(lead_id)
        leads.append(member)
    members.leadKey = leads[:2]
    suds_auth(client, server)
    added = client.service.listOperation(
        listOperation="ADDTOLIST", listKey=list_key, listMemberList=members
    )
    assert added.success is True
    members.leadKey = leads
    suds_auth(client, server)
    member_of = client.service.listOperation(
        listOperation="ISMEMBEROFLIST", listKey=list_key, listMemberList=members
    )
    assert [s.status for s in member_of.statusList.leadStatus] == [True, True, False]


# -- PHP ---------------------------------------------------------------------------------
def test_php_soapclient_reads_back_pages_and_uses_lists(php: str, server: Server) -> None:
    prefix = tag("php")
    name = prefix + ".list"
    new_list(server, name)
    done = subprocess.run(
        [php, "-d", "soap.wsdl_cache_enabled=0", str(PHP_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "LEADSYNC_ENDPOINT": server.endpoint,
            "LEADSYNC_USER_ID": server.user_id,
            "LEADSYNC_ENCRYPTION_KEY": server.key,
            "LEADSYNC_TAG": prefix,
            "LEADSYNC_LIST": name,
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    ids = out["created"]
    assert len(set(ids)) == 5
    assert out["getLead"] == {
        "count": 1,
        "id": ids[1],
        "email": f"{prefix}-1@example.com",
        "attributes": {"FirstName": ["string", "Php1"], "LeadScore": ["integer", "10"]},
    }
    assert out["byKeys"] == {"pages": [ids[:2], ids[2:4], ids[4:]], "remaining": [3, 1, 0]}
    assert_read_once(out["byTime"]["pages"], ids)
    assert out["add"] == {"success": True, "statuses": None}
    assert out["member"] == {
        "success": False,
        "statuses": [[str(ids[0]), True], [str(ids[1]), True], [str(ids[2]), False]],
    }
    assert out["listMembers"] == ids[:2]
