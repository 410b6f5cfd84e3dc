"""syncLead through the bridge: Sync Leads, then Associate Lead for a marketoCookie, then the
lead read back for returnLead."""

from __future__ import annotations

from lxml import etree

from inprocess import AppServer
from leadsync.testing import LeadsyncServer
from support import fault, lead_record

COOKIE = "id:123-ABC-456&token:_mch-example.com-1700000000000-12345"


def sync_lead(bridge: AppServer, record: str, *, cookie: str = "", return_lead: bool = True):  # type: ignore[no-untyped-def]
    extra = f"<marketoCookie>{cookie.replace('&', '&amp;')}</marketoCookie>" if cookie else ""
    params = f"{record}<returnLead>{'true' if return_lead else 'false'}</returnLead>{extra}"
    return bridge.call("syncLead", params)


def test_creates_then_updates_and_returns_the_lead(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    response = sync_lead(bridge, lead_record("sl@example.com", {"FirstName": "Sam"}))
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    lead_id = int(root.findtext(".//result/leadId") or "0")
    assert root.findtext(".//syncStatus/status") == "CREATED"
    assert root.findtext(".//leadRecord/Email") == "sl@example.com"
    names = {a.findtext("attrName"): a.findtext("attrValue") for a in root.iter("attribute")}
    assert names["FirstName"] == "Sam"
    again = etree.fromstring(
        sync_lead(
            bridge, lead_record("sl@example.com", {"City": "Oslo"}), return_lead=False
        ).content
    )
    assert again.findtext(".//syncStatus/status") == "UPDATED"
    assert int(again.findtext(".//result/leadId") or "0") == lead_id
    assert [lead["id"] for lead in upstream.leads("sl@example.com")] == [lead_id]


def test_a_cookie_is_associated_with_the_lead(bridge: AppServer) -> None:
    response = sync_lead(bridge, lead_record("ck@example.com"), cookie=COOKIE)
    assert response.status_code == 200, response.text
    lead_id = etree.fromstring(response.content).findtext(".//result/leadId")
    params = (
        "<leadKey><keyType>COOKIE</keyType>"
        f"<keyValue>{COOKIE.replace('&', '&amp;')}</keyValue></leadKey>"
    )
    found = bridge.call("getLead", params)
    assert found.status_code == 200, found.text
    assert etree.fromstring(found.content).findtext(".//leadRecord/Id") == lead_id


def test_a_cookie_alone_is_20101(bridge: AppServer) -> None:
    assert fault(sync_lead(bridge, "<leadRecord/>", cookie=COOKIE)).code == 20101


def test_a_record_that_cannot_be_written_is_20106(bridge: AppServer) -> None:
    assert fault(sync_lead(bridge, lead_record(id=987_654))).code == 20106


def test_an_unknown_attribute_is_20105(bridge: AppServer, upstream: LeadsyncServer) -> None:
    assert fault(sync_lead(bridge, lead_record("u@example.com", {"Nope": "1"}))).code == 20105
    assert upstream.leads() == []
