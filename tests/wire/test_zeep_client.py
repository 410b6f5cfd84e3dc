"""zeep, configured only from the WSDL our server serves, calling syncMultipleLeads over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault

from leadsync.mktows.signing import sign
from support import Server, count_leads, stored_leads

MKTOWS = "http://www.marketo.com/mktows/"
PACIFIC = timezone(timedelta(hours=-7))

_n = itertools.count()


def unique(tag: str) -> str:
    return f"zeep-{tag}-{next(_n)}-{id(_n)}@example.com"


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Any]:
    client = zeep.Client(server.endpoint + "?WSDL")  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.transport.session.close()


def auth_header(client: Any, user_id: str, key: str, *, signature: str | None = None) -> Any:
    timestamp = datetime.now(PACIFIC).isoformat(timespec="seconds")
    element = client.get_element(f"{{{MKTOWS}}}AuthenticationHeader")
    return element(
        mktowsUserId=user_id,
        requestSignature=signature or sign(key, timestamp, user_id),
        requestTimestamp=timestamp,
    )


def record(
    email: str | None = None,
    attrs: Mapping[str, str] | None = None,
    *,
    id: int | None = None,
    fsp: str | None = None,
    fsp_type: str | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if id is not None:
        found["Id"] = id
    if email is not None:
        found["Email"] = email
    if fsp is not None:
        found["ForeignSysPersonId"] = fsp
    if fsp_type is not None:
        found["ForeignSysType"] = fsp_type
    if attrs:
        found["leadAttributeList"] = {
            "attribute": [{"attrName": n, "attrValue": v} for n, v in attrs.items()]
        }
    return found


def sync(
    client: Any,
    server: Server,
    records: Sequence[dict[str, Any]],
    dedup: bool | None = True,
    *,
    signature: str | None = None,
) -> list[tuple[int, str, str | None]]:
    kwargs: dict[str, Any] = {"leadRecordList": {"leadRecord": list(records)}}
    if dedup is not None:
        kwargs["dedupEnabled"] = dedup
    header = auth_header(client, server.user_id, server.key, signature=signature)
    result = client.service.syncMultipleLeads(**kwargs, _soapheaders=[header])
    # zeep unwraps the single-child successSyncMultipleLeads/result down to syncStatusList.
    return [(s.leadId, s.status, s.error) for s in result.syncStatus]


def fault_code(fault: Fault) -> int:
    assert fault.detail is not None
    exc = fault.detail.find(f"{{{MKTOWS}}}serviceException")
    assert exc is not None, etree.tostring(fault.detail)
    assert exc.findtext("name") == "mktServiceException"
    return int(exc.findtext("code") or "0")


def test_zeep_reads_service_and_address_from_our_wsdl(client: Any, server: Server) -> None:
    port = client.wsdl.services["MktMktowsApiService"].ports["MktowsApiSoapPort"]
    assert port.binding_options["address"] == server.endpoint
    assert "syncMultipleLeads" in port.binding._operations


def test_zeep_creates_then_updates_several_leads(client: Any, server: Server) -> None:
    emails = [unique("a"), unique("b"), unique("c")]
    first = sync(
        client,
        server,
        [record(e, {"Company": f"Co{i}", "FirstName": f"F{i}"}) for i, e in enumerate(emails)],
    )
    assert [(status, error) for _, status, error in first] == [("CREATED", None)] * 3
    ids = [lead_id for lead_id, _, _ in first]
    assert len(set(ids)) == 3

    # Same emails, other order, other case: deduplicated onto the same leads.
    again = [record(e.upper(), {"Company": f"New{i}"}) for i, e in enumerate(emails)]
    second = sync(client, server, list(reversed(again)))
    assert second == [(lead_id, "UPDATED", None) for lead_id in reversed(ids)]

    leads = stored_leads(server.database_url, ids)
    for i, (lead_id, email) in enumerate(zip(ids, emails, strict=True)):
        assert leads[lead_id].email == email
        assert leads[lead_id].values["Company"] == f"New{i}"
        assert leads[lead_id].values["FirstName"] == f"F{i}"


def test_zeep_dedup_disabled_creates_duplicates(client: Any, server: Server) -> None:
    email = unique("dup")
    [(original, status, _)] = sync(client, server, [record(email, {"Company": "One"})])
    assert status == "CREATED"
    got = sync(
        client,
        server,
        [record(email, {"Company": "Two"}), record(email, {"Company": "Three"})],
        dedup=False,
    )
    assert [status for _, status, _ in got] == ["CREATED", "CREATED"]
    ids = [original, *(lead_id for lead_id, _, _ in got)]
    assert len(set(ids)) == 3
    leads = stored_leads(server.database_url, ids)
    assert [leads[i].email for i in ids] == [email] * 3
    assert [leads[i].values["Company"] for i in ids] == ["One", "Two", "Three"]

    # With deduplication back on (and when the flag is left out), the newest lead wins.
    [(lead_id, status, _)] = sync(client, server, [record(email, {"Company": "Four"})], None)
    assert (lead_id, status) == (ids[-1], "UPDATED")


def test_zeep_keys_and_record_level_failure(client: Any, server: Server) -> None:
    email = unique("keys")
    fsp = "zeep-fsp-" + email
    [(lead_id, status, _)] = sync(client, server, [record(email, fsp=fsp, fsp_type="CUSTOM")])
    assert status == "CREATED"
    got = sync(
        client,
        server,
        [
            record(id=lead_id, attrs={"City": "Paris"}),
            record(id=2_000_000_000, attrs={"City": "X"}),
        ],
    )
    assert got[0] == (lead_id, "UPDATED", None)
    assert got[1][1] == "FAILED"
    assert got[1][2]
    assert sync(client, server, [record(fsp=fsp, attrs={"Title": "CTO"})]) == [
        (lead_id, "UPDATED", None)
    ]
    lead = stored_leads(server.database_url, [lead_id])[lead_id]
    assert lead.values["City"] == "Paris"
    assert lead.values["Title"] == "CTO"
    assert lead.email == email
    assert lead.foreign_sys_person_id == fsp
    assert lead.foreign_sys_type == "CUSTOM"


def test_zeep_id_with_the_leads_own_foreign_id_updates(client: Any, server: Server) -> None:
    email = unique("own-fsp")
    fsp = "zeep-fsp-" + email
    [(lead_id, status, _)] = sync(client, server, [record(email, fsp=fsp, fsp_type="SFDC")])
    assert status == "CREATED"
    got = sync(
        client, server, [record(id=lead_id, fsp=fsp, fsp_type="SFDC", attrs={"City": "Oslo"})]
    )
    assert got == [(lead_id, "UPDATED", None)]
    assert stored_leads(server.database_url, [lead_id])[lead_id].values["City"] == "Oslo"


def test_zeep_two_records_reaching_one_lead_by_different_keys(client: Any, server: Server) -> None:
    email = unique("two-keys")
    [(lead_id, status, _)] = sync(client, server, [record(email, {"Company": "C"})])
    assert status == "CREATED"
    got = sync(
        client,
        server,
        [record(id=lead_id, attrs={"City": "Metz"}), record(email, {"Title": "Dir"})],
    )
    assert got == [(lead_id, "UPDATED", None), (lead_id, "UPDATED", None)]
    values = stored_leads(server.database_url, [lead_id])[lead_id].values
    assert (values["Company"], values.get("City"), values.get("Title")) == ("C", "Metz", "Dir")


def test_zeep_bad_signature_is_a_fault_20014(client: Any, server: Server) -> None:
    before = count_leads(server.database_url)
    with pytest.raises(Fault) as caught:
        sync(client, server, [record(unique("badsig"))], signature="0" * 40)
    assert caught.value.code == "SOAP-ENV:Client"
    assert caught.value.message == "20014 - Authentication failed"
    assert fault_code(caught.value) == 20014
    assert count_leads(server.database_url) == before


def test_zeep_unknown_attribute_is_a_fault_20105(client: Any, server: Server) -> None:
    before = count_leads(server.database_url)
    records = [record(unique("ok"), {"Company": "Fine"}), record(unique("bad"), {"NoSuch": "x"})]
    with pytest.raises(Fault) as caught:
        sync(client, server, records)
    assert fault_code(caught.value) == 20105
    assert "NoSuch" in caught.value.detail.findtext(f"{{{MKTOWS}}}serviceException/message")
    assert count_leads(server.database_url) == before
