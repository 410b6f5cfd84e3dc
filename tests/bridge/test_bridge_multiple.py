"""getMultipleLeads through the bridge: key selectors as filter reads, static lists as list
reads page by page, and a clear fault for LastUpdateAtSelector."""

from __future__ import annotations

from lxml import etree

from inprocess import AppServer
from leadsync.store import open_store
from leadsync.testing import LeadsyncServer
from support import fault, lead_record, statuses, sync_params

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def read(bridge: AppServer, selector: str, *, position: str = "", batch: int = 2) -> etree._Element:
    params = f"{selector}<batchSize>{batch}</batchSize>"
    if position:
        params += f"<streamPosition>{position}</streamPosition>"
    response = bridge.call("getMultipleLeads", params)
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def _emails(root: etree._Element) -> list[str | None]:
    return [r.findtext("Email") for r in root.iter("leadRecord")]


def test_key_selector_pages_in_key_order(bridge: AppServer) -> None:
    emails = [f"k{i}@x.com" for i in range(3)]
    statuses(bridge.call("syncMultipleLeads", sync_params([lead_record(e) for e in emails])))
    values = "".join(f"<stringItem>{e}</stringItem>" for e in reversed(emails))
    selector = (
        f'<leadSelector {XSI} xsi:type="ns1:LeadKeySelector"><keyType>EMAIL</keyType>'
        f"<keyValues>{values}</keyValues></leadSelector>"
    )
    first = read(bridge, selector)
    assert _emails(first) == ["k2@x.com", "k1@x.com"]
    assert first.findtext(".//remainingCount") == "1"
    position = first.findtext(".//newStreamPosition") or ""
    second = read(bridge, selector, position=position)
    assert _emails(second) == ["k0@x.com"]
    assert second.findtext(".//remainingCount") == "0"


def test_static_list_selector_reads_the_list_page_by_page(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    store = open_store(upstream.database_url)
    try:
        if all(item.name != "Readers" for item in store.static_lists()):
            store.add_static_list("Readers")
    finally:
        store.close()
    created = statuses(
        bridge.call(
            "syncMultipleLeads", sync_params([lead_record(f"r{i}@x.com") for i in range(3)])
        )
    )
    members = "".join(
        f"<leadKey><keyType>IDNUM</keyType><keyValue>{s.lead_id}</keyValue></leadKey>"
        for s in created
    )
    added = bridge.call(
        "listOperation",
        "<listOperation>ADDTOLIST</listOperation><listKey><keyType>MKTOLISTNAME</keyType>"
        f"<keyValue>Readers</keyValue></listKey><listMemberList>{members}</listMemberList>",
    )
    assert added.status_code == 200, added.text
    selector = (
        f'<leadSelector {XSI} xsi:type="ns1:StaticListSelector">'
        "<staticListName>Readers</staticListName></leadSelector>"
    )
    seen: list[str | None] = []
    page = read(bridge, selector)
    seen += _emails(page)
    while page.findtext(".//remainingCount") != "0":
        page = read(bridge, "", position=page.findtext(".//newStreamPosition") or "")
        seen += _emails(page)
    assert sorted(e or "" for e in seen) == ["r0@x.com", "r1@x.com", "r2@x.com"]


def test_last_update_selector_is_a_clear_fault(bridge: AppServer) -> None:
    selector = (
        f'<leadSelector {XSI} xsi:type="ns1:LastUpdateAtSelector">'
        "<oldestUpdatedAt>2026-01-01T00:00:00Z</oldestUpdatedAt></leadSelector>"
    )
    refused = fault(bridge.call("getMultipleLeads", selector))
    assert refused.code == 20019
    assert "bulk extract" in refused.message
