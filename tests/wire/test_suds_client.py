"""suds-community, configured only from the WSDL our server serves, calling it over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from suds import WebFault
from suds.client import Client

from leadsync.mktows.signing import sign
from support import Server, count_leads, stored_leads

INDIA = timezone(timedelta(hours=5, minutes=30))

_n = itertools.count()


def unique(tag: str) -> str:
    return f"suds-{tag}-{next(_n)}-{id(_n)}@example.com"


@pytest.fixture(scope="module")
def client(server: Server) -> Any:
    return Client(server.endpoint + "?WSDL", cache=None)


def set_auth(client: Any, server: Server, *, signature: str | None = None) -> None:
    timestamp = datetime.now(INDIA).isoformat(timespec="seconds")
    header = client.factory.create("AuthenticationHeader")
    header.mktowsUserId = server.user_id
    header.requestSignature = signature or sign(server.key, timestamp, server.user_id)
    header.requestTimestamp = timestamp
    client.set_options(soapheaders=header)


def record(client: Any, email: str, attrs: Mapping[str, str]) -> Any:
    rec = client.factory.create("LeadRecord")
    rec.Email = email
    attributes = []
    for name, value in attrs.items():
        attr = client.factory.create("Attribute")
        attr.attrName = name
        attr.attrValue = value
        attributes.append(attr)
    attr_list = client.factory.create("ArrayOfAttribute")
    attr_list.attribute = attributes
    rec.leadAttributeList = attr_list
    return rec


def sync(
    client: Any,
    server: Server,
    records: Sequence[Any],
    dedup: bool = True,
    *,
    signature: str | None = None,
) -> list[tuple[int, str, str | None]]:
    set_auth(client, server, signature=signature)
    records_list = client.factory.create("ArrayOfLeadRecord")
    records_list.leadRecord = list(records)
    result = client.service.syncMultipleLeads(leadRecordList=records_list, dedupEnabled=dedup)
    return [(int(s.leadId), str(s.status), s.error) for s in result.syncStatusList.syncStatus]


def test_suds_creates_then_updates_several_leads(client: Any, server: Server) -> None:
    emails = [unique("a"), unique("b")]
    first = sync(
        client,
        server,
        [
            record(client, e, {"Company": f"Co{i}", "Phone": f"555-{i}"})
            for i, e in enumerate(emails)
        ],
    )
    assert [(status, error) for _, status, error in first] == [("CREATED", None)] * 2
    ids = [lead_id for lead_id, _, _ in first]
    assert len(set(ids)) == 2

    second = sync(
        client, server, [record(client, e, {"Company": f"New{i}"}) for i, e in enumerate(emails)]
    )
    assert second == [(lead_id, "UPDATED", None) for lead_id in ids]

    leads = stored_leads(server.database_url, ids)
    for i, (lead_id, email) in enumerate(zip(ids, emails, strict=True)):
        assert leads[lead_id].email == email
        assert leads[lead_id].values["Company"] == f"New{i}"
        assert leads[lead_id].values["Phone"] == f"555-{i}"


def test_suds_dedup_disabled_creates_a_duplicate(client: Any, server: Server) -> None:
    email = unique("dup")
    [(original, status, _)] = sync(client, server, [record(client, email, {"Company": "One"})])
    assert status == "CREATED"
    [(duplicate, status, _)] = sync(
        client, server, [record(client, email, {"Company": "Two"})], dedup=False
    )
    assert status == "CREATED"
    assert duplicate != original
    leads = stored_leads(server.database_url, [original, duplicate])
    assert leads[original].values["Company"] == "One"
    assert leads[duplicate].values["Company"] == "Two"
    assert leads[original].email == leads[duplicate].email == email


def test_suds_bad_signature_raises_webfault_20014(client: Any, server: Server) -> None:
    before = count_leads(server.database_url)
    with pytest.raises(WebFault) as caught:
        sync(client, server, [record(client, unique("badsig"), {})], signature="0" * 40)
    fault = caught.value.fault
    assert fault.faultcode == "SOAP-ENV:Client"
    assert fault.faultstring == "20014 - Authentication failed"
    exc = fault.detail.serviceException
    assert (exc.name, exc.code) == ("mktServiceException", "20014")
    assert count_leads(server.database_url) == before


def test_suds_unknown_attribute_raises_webfault_20105(client: Any, server: Server) -> None:
    before = count_leads(server.database_url)
    with pytest.raises(WebFault) as caught:
        sync(client, server, [record(client, unique("bad"), {"NoSuchField": "x"})])
    exc = caught.value.fault.detail.serviceException
    assert exc.code == "20105"
    assert "NoSuchField" in exc.message
    assert count_leads(server.database_url) == before
