"""syncLead: returnLead, marketoCookie, MktowsContextHeader, the Email rule."""

from __future__ import annotations

from collections.abc import Iterator
from xml.sax.saxutils import escape

import httpx
import pytest

from inprocess import serving_app
from leadapi import body_of, get_lead, is_nil, key_xml, records, unique
from support import Server, count_leads, fault, lead_record


def sync_lead(
    server: Server,
    record: str,
    *,
    return_lead: str | None = "true",
    cookie: str | None = None,
    workspace: str | None = None,
) -> httpx.Response:
    params = record
    if return_lead is not None:
        params += f"<returnLead>{return_lead}</returnLead>"
    if cookie is not None:
        params += f"<marketoCookie>{escape(cookie)}</marketoCookie>"
    extra = ""
    if workspace is not None:
        extra = (
            "<ns1:MktowsContextHeader><targetWorkspace>"
            f"{escape(workspace)}</targetWorkspace></ns1:MktowsContextHeader>"
        )
    return server.call("syncLead", params, extra_headers=extra)


def outcome(response: httpx.Response) -> tuple[int, str, int]:
    result = body_of(response, "syncLead").find("result")
    assert result is not None
    assert [c.tag for c in result] == ["leadId", "syncStatus", "leadRecord"]
    status = result.find("syncStatus")
    assert status is not None
    return (
        int(result.findtext("leadId") or "-1"),
        status.findtext("status") or "",
        int(status.findtext("leadId") or "-1"),
    )


@pytest.fixture(scope="module")
def strict_email_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """syncLead with the syncMultipleLeads Email rule and FAILED statuses instead of faults."""
    with serving_app(
        tmp_path_factory.mktemp("synclead"),
        sync_lead_writes_key_email=False,
        sync_lead_failure_faults=False,
        workspace="Futures Institute",
    ) as srv:
        yield srv


def test_creates_then_updates_and_returns_the_lead(server: Server) -> None:
    email = unique()
    created = sync_lead(server, lead_record(email, {"FirstName": "George"}))
    lead_id, status, status_id = outcome(created)
    assert (status, status_id) == ("CREATED", lead_id)
    [rec] = records(body_of(created, "syncLead"))
    assert (rec.id, rec.email, rec.attrs) == (lead_id, email, {"FirstName": ("string", "George")})
    updated = sync_lead(server, lead_record(email, {"LastName": "of the Jungle"}))
    assert outcome(updated) == (lead_id, "UPDATED", lead_id)
    [rec] = records(body_of(updated, "syncLead"))
    assert rec.attrs == {
        "FirstName": ("string", "George"),
        "LastName": ("string", "of the Jungle"),
    }


@pytest.mark.parametrize("flag", ["false", "False", None])
def test_return_lead_false_gives_a_nil_record(server: Server, flag: str | None) -> None:
    response = sync_lead(server, lead_record(unique()), return_lead=flag)
    assert outcome(response)[1] == "CREATED"
    assert is_nil(body_of(response, "syncLead").find("result/leadRecord"))


def test_cookie_finds_an_anonymous_lead_that_becomes_known(server: Server) -> None:
    cookie = "id:561-HYG-937&token:_mch-" + unique("anon")
    anonymous = sync_lead(server, "<leadRecord/>", cookie=cookie)
    lead_id, status, _ = outcome(anonymous)
    assert status == "CREATED"
    [rec] = get_lead(server, "COOKIE", cookie)
    assert (rec.id, rec.email) == (lead_id, None)
    email = unique("known")
    known = sync_lead(server, lead_record(email, {"FirstName": "Ann"}), cookie=cookie)
    assert outcome(known) == (lead_id, "UPDATED", lead_id)
    [rec] = get_lead(server, "EMAIL", email)
    assert (rec.id, rec.value("FirstName")) == (lead_id, "Ann")


def test_an_email_match_takes_on_the_cookie(server: Server) -> None:
    email, cookie = unique(), "id:1&token:" + unique("t")
    first, _, _ = outcome(sync_lead(server, lead_record(email)))
    assert outcome(sync_lead(server, lead_record(email), cookie=cookie))[0] == first
    assert [r.id for r in get_lead(server, "COOKIE", cookie)] == [first]


def test_foreign_id_match_writes_the_top_level_email_by_default(server: Server) -> None:
    old, new = unique(), unique()
    lead_id, _, _ = outcome(sync_lead(server, lead_record(old, fsp="fs-" + old)))
    assert outcome(sync_lead(server, lead_record(new, fsp="fs-" + old)))[0] == lead_id
    assert get_lead(server, "IDNUM", lead_id)[0].email == new


def test_the_email_rule_is_a_setting(strict_email_server: Server) -> None:
    srv = strict_email_server
    old, new = unique(), unique()
    lead_id, _, _ = outcome(sync_lead(srv, lead_record(old, fsp="fs-" + old)))
    assert outcome(sync_lead(srv, lead_record(new, fsp="fs-" + old)))[0] == lead_id
    assert get_lead(srv, "IDNUM", lead_id)[0].email == old


@pytest.mark.parametrize("workspace", ["Default", "default"])
def test_context_header_naming_the_workspace_is_accepted(server: Server, workspace: str) -> None:
    assert outcome(sync_lead(server, lead_record(unique()), workspace=workspace))[1] == "CREATED"


@pytest.mark.parametrize("workspace", ["Futures Institute", ""])
def test_another_workspace_is_20110(server: Server, workspace: str) -> None:
    before = count_leads(server.database_url)
    assert fault(sync_lead(server, lead_record(unique()), workspace=workspace)).code == 20110
    assert count_leads(server.database_url) == before


def test_the_workspace_is_a_setting(strict_email_server: Server) -> None:
    record = lead_record(unique())
    ok = sync_lead(strict_email_server, record, workspace="futures institute")
    assert outcome(ok)[1] == "CREATED"
    assert fault(sync_lead(strict_email_server, record, workspace="Default")).code == 20110


def test_unknown_attribute_faults_with_20105_and_writes_nothing(server: Server) -> None:
    email = unique()
    got = fault(sync_lead(server, lead_record(email, {"FirstName": "A", "pants": "x"})))
    assert (got.code, got.faultstring) == (20105, "20105 - Unknown lead field")
    assert got.message == "syncLead operation failed: unknown fields for import: pants (20105)"
    assert fault(server.call("getLead", key_xml("EMAIL", email))).code == 20103


@pytest.mark.parametrize(
    "record",
    [
        lead_record(None, {"City": "Nowhere"}, id=999_999_999),
        lead_record(unique(), {"LeadScore": "lots"}),
    ],
)
def test_a_record_that_cannot_be_written_is_20106(server: Server, record: str) -> None:
    assert fault(sync_lead(server, record)).code == 20106


def test_or_a_failed_status_when_configured(strict_email_server: Server) -> None:
    response = sync_lead(strict_email_server, lead_record(None, {"City": "X"}, id=999_999_999))
    assert outcome(response) == (0, "FAILED", 0)
    result = body_of(response, "syncLead").find("result")
    assert result is not None
    assert "Lead not found" in (result.findtext("syncStatus/error") or "")
    assert is_nil(result.find("leadRecord"))


def test_a_record_without_any_key_is_20101(server: Server) -> None:
    assert fault(sync_lead(server, lead_record(None, {"City": "X"}))).code == 20101


def test_a_missing_lead_record_is_20104(server: Server) -> None:
    assert fault(server.call("syncLead", "<returnLead>true</returnLead>")).code == 20104
