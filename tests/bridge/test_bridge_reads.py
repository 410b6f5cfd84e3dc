"""getLead and describeMObject through the bridge: answered from the upstream, shaped as the
local server shapes them."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from inprocess import AppServer, serving_app
from leadsync.testing import LeadsyncServer
from support import fault, lead_record, statuses, sync_params

MKTOWS = "{http://www.marketo.com/mktows/}"


def get_lead(server: AppServer, key_type: str, value: str) -> etree._Element:
    params = f"<leadKey><keyType>{key_type}</keyType><keyValue>{value}</keyValue></leadKey>"
    response = server.call("getLead", params)
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def _records(root: etree._Element) -> list[dict[str, str | None]]:
    found = []
    for record in root.iter("leadRecord"):
        row: dict[str, str | None] = {
            "Id": record.findtext("Id"),
            "Email": record.findtext("Email"),
        }
        for attr in record.iter("attribute"):
            row[attr.findtext("attrName") or ""] = attr.findtext("attrValue")
        found.append(row)
    return found


def test_get_lead_by_each_key_answers_as_a_local_server_would(
    bridge: AppServer, upstream: LeadsyncServer, tmp_path: Path
) -> None:
    attrs = {"FirstName": "Ada", "LeadScore": "42", "DoNotCall": "true", "City": "Paris"}
    record = lead_record("ada@example.com", attrs, fsp="erp-7")
    [created] = statuses(bridge.call("syncMultipleLeads", sync_params([record])))
    by_email = _records(get_lead(bridge, "EMAIL", "ada@example.com"))
    by_id = _records(get_lead(bridge, "IDNUM", str(created.lead_id)))
    assert by_email == by_id
    (tmp_path / "local").mkdir()
    with serving_app(tmp_path / "local") as local:
        statuses(
            local.call("syncMultipleLeads", sync_params([lead_record("ada@example.com", attrs)]))
        )
        expected = _records(get_lead(local, "EMAIL", "ada@example.com"))
    [got] = by_email
    [want] = expected
    assert got.pop("Id") == str(created.lead_id)
    want.pop("Id")
    assert got == want


def test_get_lead_of_nobody_is_20103(bridge: AppServer) -> None:
    params = "<leadKey><keyType>EMAIL</keyType><keyValue>none@example.com</keyValue></leadKey>"
    assert fault(bridge.call("getLead", params)).code == 20103


def test_lead_owner_email_is_a_clear_fault(bridge: AppServer) -> None:
    params = (
        "<leadKey><keyType>LEADOWNEREMAIL</keyType><keyValue>o@example.com</keyValue></leadKey>"
    )
    refused = fault(bridge.call("getLead", params))
    assert refused.code == 20102
    assert "REST API has no filter" in refused.message


def test_describe_lists_the_upstream_fields(bridge: AppServer) -> None:
    response = bridge.call("describeMObject", "<objectName>LeadRecord</objectName>")
    assert response.status_code == 200, response.text
    names = {n.text for n in etree.fromstring(response.content).iter("name")}
    assert {"FirstName", "Company", "foreignId"} <= names


def test_operations_not_bridged_are_20019(bridge: AppServer) -> None:
    refused = fault(bridge.call("listMObjects", ""))
    assert refused.code == 20019
    assert "bridge mode" in refused.message
