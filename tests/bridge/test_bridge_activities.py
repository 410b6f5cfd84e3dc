"""getLeadActivity through the bridge: the upstream's activities of the lead, newest first,
paged by offset, typed by their WSDL names, as a local leadsync answers them."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from inprocess import AppServer, serving_app
from support import fault, lead_record, statuses, sync_params


def activity(
    server: AppServer, email: str, *, batch: int = 10, offset: str = "", types: str = ""
) -> etree._Element:
    start = f"<startPosition><offset>{offset}</offset></startPosition>" if offset else ""
    kinds = (
        f"<activityFilter><includeTypes><activityType>{types}</activityType></includeTypes>"
        "</activityFilter>"
        if types
        else ""
    )
    params = (
        f"<leadKey><keyType>EMAIL</keyType><keyValue>{email}</keyValue></leadKey>"
        f"{kinds}{start}<batchSize>{batch}</batchSize>"
    )
    response = server.call("getLeadActivity", params)
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def _types(root: etree._Element) -> list[str | None]:
    return [r.findtext("activityType") for r in root.iter("activityRecord")]


def _attributes(root: etree._Element) -> list[list[tuple[str | None, str | None]]]:
    return [
        [
            (a.findtext("attrName"), a.findtext("attrValue"))
            for a in record.iter("attribute")
            if a.findtext("attrName") != "Lead ID"  # each database's own ids
        ]
        for record in root.iter("activityRecord")
    ]


def _history(server: AppServer) -> None:
    for attrs in ({"City": "Lyon"}, {"City": "Oslo"}):
        statuses(server.call("syncMultipleLeads", sync_params([lead_record("act@x.com", attrs)])))


def test_activity_newest_first_as_locally(bridge: AppServer, tmp_path: Path) -> None:
    _history(bridge)
    (tmp_path / "local").mkdir()
    with serving_app(tmp_path / "local") as local:
        _history(local)
        local_root = activity(local, "act@x.com")
        expected = _types(local_root)
    got = activity(bridge, "act@x.com")
    assert _types(got) == expected
    assert _attributes(got) == _attributes(local_root)
    assert _types(got)[-1] == "New Lead"


def test_pages_by_offset_and_filters_by_type(bridge: AppServer) -> None:
    _history(bridge)
    first = activity(bridge, "act@x.com", batch=1)
    assert first.findtext(".//returnCount") == "1"
    remaining = int(first.findtext(".//remainingCount") or "0")
    offset = first.findtext(".//newStartPosition/offset") or ""
    assert offset.startswith("ID:")
    rest = activity(bridge, "act@x.com", batch=10, offset=offset)
    assert len(_types(rest)) == remaining
    only_new = activity(bridge, "act@x.com", types="NewLead")
    assert _types(only_new) == ["New Lead"]


def test_an_unknown_lead_is_20103(bridge: AppServer) -> None:
    params = "<leadKey><keyType>EMAIL</keyType><keyValue>none@x.com</keyValue></leadKey>"
    assert fault(bridge.call("getLeadActivity", params)).code == 20103


def changes(
    server: AppServer, selector: str = "", *, offset: str = "", batch: int = 100
) -> etree._Element:
    start = (
        f"<startPosition><offset>{offset}</offset></startPosition>"
        if offset
        else "<startPosition><oldestCreatedAt>2000-01-01T00:00:00Z</oldestCreatedAt>"
        "</startPosition>"
    )
    response = server.call("getLeadChanges", f"{start}{selector}<batchSize>{batch}</batchSize>")
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def _change_types(root: etree._Element) -> list[str | None]:
    return [r.findtext("activityType") for r in root.iter("leadChangeRecord")]


def test_lead_changes_oldest_first_as_locally(bridge: AppServer, tmp_path: Path) -> None:
    _history(bridge)
    (tmp_path / "local").mkdir()
    with serving_app(tmp_path / "local") as local:
        _history(local)
        expected = _change_types(changes(local))
    got = changes(bridge)
    assert _change_types(got) == expected
    first = changes(bridge, batch=1)
    offset = first.findtext(".//newStartPosition/offset") or ""
    assert _change_types(changes(bridge, offset=offset)) == expected[1:]


def test_lead_changes_of_some_leads(bridge: AppServer) -> None:
    _history(bridge)
    statuses(bridge.call("syncMultipleLeads", sync_params([lead_record("other@x.com")])))
    selector = (
        '<leadSelector xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:type="ns1:LeadKeySelector"><keyType>EMAIL</keyType>'
        "<keyValues><stringItem>other@x.com</stringItem></keyValues></leadSelector>"
    )
    assert _change_types(changes(bridge, selector)) == ["New Lead"]
