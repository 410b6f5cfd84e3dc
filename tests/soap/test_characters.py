"""Characters on the server's wire, in-process on each backend (docs/compatibility.md,
"Characters"): what XML 1.0 carries comes back exactly; what it cannot carry is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.mktows.ns import XSI
from leadsync.soap.endpoint import SoapService
from leadsync.store.base import Store
from support import envelope, sync_params

VALUES = {
    "Address": "line1\r\nline2\rline3\nline4",
    "Company": "\tTabbed\t & <Co>\r",
    "FirstName": " spaced ",
    "LastName": "Ünïcödé 😀 \u2028 \x85 end",
    "Title": "x" + "".join(chr(c) for c in range(0x20, 0x7F)),
}


def _record(email: str, attrs: dict[str, str]) -> str:
    items = "".join(
        f"<attribute><attrName>{name}</attrName><attrValue>{esc(value)}</attrValue></attribute>"
        for name, value in attrs.items()
    )
    return (
        f"<leadRecord><Email>{email}</Email>"
        f"<leadAttributeList>{items}</leadAttributeList></leadRecord>"
    )


def _call(service: SoapService, operation: str, params: str) -> tuple[int, bytes]:
    return service.process(envelope(operation, params).encode("utf-8"))


def _lead_values(body: bytes) -> dict[str, str | None]:
    root = xml.parse(body)
    record = next(root.iter("leadRecord"))
    attributes = xml.child(record, "leadAttributeList")
    assert attributes is not None
    return {
        xml.text(xml.child(a, "attrName")) or "": xml.text(xml.child(a, "attrValue"))
        for a in xml.children(attributes)
    }


def _fault_code(body: bytes) -> tuple[int, str]:
    root = xml.parse(body)
    return int(next(root.iter("code")).text or "0"), next(root.iter("message")).text or ""


def test_every_character_xml_carries_comes_back_exactly(service: SoapService) -> None:
    email = "chars@example.com"
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for version in (dict.fromkeys(VALUES, "x"), VALUES):
        status, _ = _call(service, "syncMultipleLeads", sync_params([_record(email, version)]))
        assert status == 200
    key = f"<leadKey><keyType>EMAIL</keyType><keyValue>{email}</keyValue></leadKey>"
    status, body = _call(service, "getLead", key)
    assert status == 200
    assert b"&#13;" in body
    assert _lead_values(body) == VALUES
    selector = (
        f'<leadSelector xmlns:xsi="{XSI}" xsi:type="ns1:LeadKeySelector"><keyType>EMAIL'
        f"</keyType><keyValues><stringItem>{email}</stringItem></keyValues></leadSelector>"
    )
    status, body = _call(service, "getMultipleLeads", selector)
    assert status == 200
    assert _lead_values(body) == VALUES
    status, body = _call(service, "getLeadActivity", key)
    assert status == 200
    assert sorted(_new_values(body)) == sorted(VALUES.values())
    changes = (
        f"<startPosition><oldestCreatedAt>{since}</oldestCreatedAt></startPosition>"
        "<activityNameFilter><stringItem>Change Data Value</stringItem></activityNameFilter>"
        "<batchSize>100</batchSize>"
    )
    status, body = _call(service, "getLeadChanges", changes)
    assert status == 200
    assert sorted(_new_values(body)) == sorted(VALUES.values())


def _new_values(body: bytes) -> list[str | None]:
    return [
        xml.text(xml.child(a, "attrValue"))
        for a in xml.parse(body).iter("attribute")
        if xml.text(xml.child(a, "attrName")) == "New Value"
    ]


@pytest.mark.parametrize("value", ["a&#1;b", "a&#xFFFE;b", "a\x0bb", "&#0;"])
def test_a_request_holding_what_xml_cannot_carry_is_refused_whole(
    service: SoapService, store: Store, value: str
) -> None:
    good = _record("good@example.com", {"Company": "Acme"})
    bad = good.replace("good@", "bad@").replace("Acme", value)
    status, body = _call(service, "syncMultipleLeads", sync_params([good, bad]))
    assert status == 500
    assert _fault_code(body)[0] == 20012
    with store.read() as reader:
        assert reader.count_leads() == 0


def test_a_stored_value_xml_cannot_carry_faults_the_read_naming_it(
    service: SoapService, store: Store
) -> None:
    # Only another way in than SOAP could store one; the answer says so, dropping nothing.
    status, _ = _call(
        service, "syncMultipleLeads", sync_params([_record("c@example.com", {"Company": "ok"})])
    )
    assert status == 200
    with store.write() as writer:
        lead = next(iter(writer.newest_leads_by_email(["c@example.com"]).values()))
        lead.values["Company"] = "bad\x01value"
        writer.update_leads([lead])
    key = "<leadKey><keyType>EMAIL</keyType><keyValue>c@example.com</keyValue></leadKey>"
    status, body = _call(service, "getLead", key)
    assert status == 500
    code, message = _fault_code(body)
    assert code == 20011
    assert "U+0001" in message
