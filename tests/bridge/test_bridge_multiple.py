"""getMultipleLeads through the bridge: key selectors as filter reads, static lists as list
reads page by page, LastUpdateAtSelector as bulk lead extracts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bridgekit import bridge_settings
from lxml import etree

from inprocess import AppServer, serving_app
from leadsync.bridge.extract import UPDATED_KIND, refusal
from leadsync.bridge.upstream import UpstreamError
from leadsync.operations import positions
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


def _updated_selector(oldest: datetime, latest: datetime | None = None) -> str:
    bounds = f"<oldestUpdatedAt>{oldest.isoformat()}</oldestUpdatedAt>"
    if latest is not None:
        bounds += f"<latestUpdatedAt>{latest.isoformat()}</latestUpdatedAt>"
    return f'<leadSelector {XSI} xsi:type="ns1:LastUpdateAtSelector">{bounds}</leadSelector>'


def _sync(bridge: AppServer, emails: list[str]) -> list[int]:
    done = statuses(bridge.call("syncMultipleLeads", sync_params([lead_record(e) for e in emails])))
    return [s.lead_id for s in done]


def _read_all(bridge: AppServer, selector: str, batch: int) -> list[etree._Element]:
    pages = [read(bridge, selector, batch=batch)]
    while pages[-1].findtext(".//remainingCount") != "0":
        position = pages[-1].findtext(".//newStreamPosition") or ""
        assert position
        pages.append(read(bridge, "", position=position, batch=batch))
    return pages


def test_last_update_selector_reads_the_updated_leads_through_a_bulk_extract(
    bridge: AppServer,
) -> None:
    ids = _sync(bridge, [f"u{i}@x.com" for i in range(3)])
    now = datetime.now(UTC)
    pages = _read_all(bridge, _updated_selector(now - timedelta(hours=1)), batch=2)
    assert [_emails(p) for p in pages] == [["u0@x.com", "u1@x.com"], ["u2@x.com"]]
    assert [p.findtext(".//remainingCount") for p in pages] == ["1", "0"]
    # Each record is the one the other reads make (values by SOAP name, the lead's id).
    assert [r.findtext("Id") for p in pages for r in p.iter("leadRecord")] == [str(i) for i in ids]
    # A window that ends before they were written holds none of them.
    old = read(bridge, _updated_selector(now - timedelta(days=2), now - timedelta(days=1)))
    assert _emails(old) == []
    assert old.findtext(".//remainingCount") == "0"
    # As locally, a window that ends before it starts holds nothing.
    empty = read(bridge, _updated_selector(now, now - timedelta(days=1)))
    assert (_emails(empty), empty.findtext(".//remainingCount")) == ([], "0")


def test_a_window_wider_than_one_extract_is_read_as_several(bridge: AppServer) -> None:
    _sync(bridge, ["w0@x.com", "w1@x.com"])
    # No end: the local rule allows any width, an extract 31 days.
    pages = _read_all(bridge, _updated_selector(datetime.now(UTC) - timedelta(days=40)), 5)
    assert [_emails(p) for p in pages] == [[], ["w0@x.com", "w1@x.com"]]


def test_the_local_time_range_rule_holds(bridge: AppServer) -> None:
    now = datetime.now(UTC)
    refused = fault(
        bridge.call("getMultipleLeads", _updated_selector(now - timedelta(days=45), now))
    )
    assert refused.code == 20022


def test_a_stalled_extract_ends_with_a_clear_fault_after_the_wait(
    upstream: LeadsyncServer, tmp_path: Path
) -> None:
    upstream.inject("op=exportLeadsJob,delay=20s")
    with serving_app(tmp_path, **bridge_settings(upstream, bridge_extract_wait_seconds=1)) as app:
        refused = fault(
            app.call("getMultipleLeads", _updated_selector(datetime.now(UTC) - timedelta(hours=1)))
        )
    assert refused.code == 20011
    assert "bridge_extract_wait_seconds" in refused.message
    assert "canceled" in refused.message


def test_a_failed_extract_is_a_clear_fault(bridge: AppServer, upstream: LeadsyncServer) -> None:
    upstream.inject("op=exportLeadsJob,code=1003")
    refused = fault(
        bridge.call("getMultipleLeads", _updated_selector(datetime.now(UTC) - timedelta(hours=1)))
    )
    assert refused.code == 20011
    assert "ended Failed" in refused.message
    assert "fault rule code 1003" in refused.message


@pytest.mark.parametrize(
    ("code", "message", "soap"),
    [
        ("603", "Access denied", 20013),
        ("1029", "Too many jobs (10) in queue", 20024),
        ("1029", "Export daily quota 500000000 bytes exceeded", 20015),
        ("1035", "Unsupported filter type for target subscription: updatedAt", 20019),
        ("611", "System error", 20011),
    ],
)
def test_extract_refusals_name_why(code: str, message: str, soap: int) -> None:
    error = refusal(UpstreamError(code, message))
    assert error.code == soap
    assert f"bulk lead extract: {code} {message}" in error.message


def test_a_stream_position_never_names_an_upstream_path(bridge: AppServer) -> None:
    now = positions.from_time(datetime.now(UTC))
    forged = positions.encode(UPDATED_KIND, "..%2F..%2Frest", 0, now, now, now, "0")
    refused = fault(bridge.call("getMultipleLeads", f"<streamPosition>{forged}</streamPosition>"))
    assert refused.code == 20122
