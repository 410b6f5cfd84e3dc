"""getLead: every key type leadsync holds, attrType, and its faults."""

from __future__ import annotations

import pytest

from leadapi import body_of, get_lead, key_xml, sync, unique
from support import Server, fault, lead_record


def test_by_id_returns_every_attribute_typed_and_sorted(server: Server) -> None:
    email = unique()
    attrs = {
        "LeadScore": "62",
        "website": "gmail.com",
        "FirstName": "Travis",
        "DoNotCall": "true",
        "AnnualRevenue": "12.5",
        "DateofBirth": "1980-02-29",
        "Company": "Marketo",
    }
    [made] = sync(server, lead_record(email, attrs, fsp="F-" + email, fsp_type="SFDC"))
    [rec] = get_lead(server, "IDNUM", made.lead_id)
    assert (rec.id, rec.email, rec.fsp, rec.fsp_type) == (made.lead_id, email, "F-" + email, "SFDC")
    assert rec.attrs == {
        "AnnualRevenue": ("currency", "12.5"),
        "Company": ("string", "Marketo"),
        "DateofBirth": ("date", "1980-02-29"),
        "DoNotCall": ("boolean", "1"),
        "FirstName": ("string", "Travis"),
        "LeadScore": ("integer", "62"),
        "Website": ("url", "gmail.com"),
    }
    assert rec.order == sorted(rec.order, key=str.casefold)


def test_empty_values_are_left_out_and_keys_are_nil(server: Server) -> None:
    [made] = sync(server, lead_record(unique(), {"City": "", "Title": "CTO"}))
    response = server.call("getLead", key_xml("IDNUM", made.lead_id))
    [rec] = get_lead(server, "IDNUM", made.lead_id)
    assert rec.attrs == {"Title": ("string", "CTO")}
    assert b'<ForeignSysPersonId xsi:nil="true" />' in response.content


def test_by_email_returns_every_duplicate_newest_first(server: Server) -> None:
    email = unique("Dup")
    [a] = sync(server, lead_record(email, {"City": "A"}), dedup="false")
    [b] = sync(server, lead_record(email, {"City": "B"}), dedup="false")
    found = get_lead(server, "EMAIL", email.upper())
    assert [r.id for r in found] == [b.lead_id, a.lead_id]
    result = body_of(server.call("getLead", key_xml("EMAIL", email)), "getLead").find("result")
    assert result is not None
    assert result.findtext("count") == "2"


@pytest.mark.parametrize("key_type", ["SFDCLEADID", "SFDCCONTACTID"])
def test_salesforce_ids_name_the_foreign_system_id(server: Server, key_type: str) -> None:
    fsp = "00Q" + unique("sf")
    [made] = sync(server, lead_record(unique(), fsp=fsp, fsp_type="SFDC"))
    assert [r.id for r in get_lead(server, key_type, fsp)] == [made.lead_id]


def test_by_cookie(server: Server) -> None:
    cookie = "id:561-HYG-937&token:_mch-" + unique("c")
    params = lead_record(unique()) + "<returnLead>false</returnLead>"
    params += f"<marketoCookie>{cookie.replace('&', '&amp;')}</marketoCookie>"
    made = body_of(server.call("syncLead", params), "syncLead")
    lead_id = int(made.findtext("result/leadId") or "0")
    assert [r.id for r in get_lead(server, "COOKIE", cookie)] == [lead_id]


def test_no_match_is_20103_naming_the_key(server: Server) -> None:
    email = unique("nobody")
    got = fault(server.call("getLead", key_xml("EMAIL", email)))
    assert (got.code, got.faultstring) == (20103, "20103 - Lead not found")
    assert got.message == f"No lead found with EMAIL = {email} (20103)"


@pytest.mark.parametrize(
    ("key_type", "value", "code"),
    [
        ("IDNUM", "999999999", 20103),
        ("IDNUM", "abc", 20103),
        ("COOKIE", "id:none", 20103),
        ("SFDCACCOUNTID", "001x", 20103),
        ("SFDCOPPTYID", "006x", 20103),
        ("LEADOWNEREMAIL", "owner@example.com", 20108),
        ("SFDCLEADOWNERID", "005x", 20108),
        ("PHONE", "123", 20102),
        ("", "123", 20101),
        ("EMAIL", "", 20101),
    ],
)
def test_faults(server: Server, key_type: str, value: str, code: int) -> None:
    assert fault(server.call("getLead", key_xml(key_type, value))).code == code


def test_missing_lead_key_is_20101(server: Server) -> None:
    assert fault(server.call("getLead", "")).code == 20101


def test_key_type_is_read_without_regard_to_case(server: Server) -> None:
    [made] = sync(server, lead_record(unique()))
    assert [r.id for r in get_lead(server, "idnum", made.lead_id)] == [made.lead_id]
