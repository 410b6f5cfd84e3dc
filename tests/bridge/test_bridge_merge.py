"""mergeLeads through the bridge: keys resolved upstream, then Merge Leads on the winner."""

from __future__ import annotations

from lxml import etree

from inprocess import AppServer
from leadsync.testing import LeadsyncServer
from support import fault, lead_record, statuses, sync_params


def _keys(pairs: list[tuple[str, str]]) -> str:
    return "".join(
        f"<attribute><attrName>{k}</attrName><attrValue>{v}</attrValue></attribute>"
        for k, v in pairs
    )


def merge(bridge: AppServer, winner: list[tuple[str, str]], *losers: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    lists = "".join(f"<keyList>{_keys(loser)}</keyList>" for loser in losers)
    params = (
        f"<winningLeadKeyList>{_keys(winner)}</winningLeadKeyList>"
        f"<losingLeadKeyLists>{lists}</losingLeadKeyLists>"
    )
    return bridge.call("mergeLeads", params)


def test_losers_named_by_email_are_merged_into_the_winner(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    records = [lead_record(f"m{i}@x.com", {"City": f"C{i}"}) for i in range(3)]
    a, b, c = statuses(bridge.call("syncMultipleLeads", sync_params(records)))
    response = merge(
        bridge, [("IDNUM", str(a.lead_id))], [("EMAIL", "m1@x.com")], [("IDNUM", str(c.lead_id))]
    )
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert root.findtext(".//winningLeadId") == str(a.lead_id)
    assert [i.text for i in root.iter("integerItem")] == [str(b.lead_id), str(c.lead_id)]
    assert root.findtext(".//status") == "MERGED"
    assert [lead["id"] for lead in upstream.leads()] == [a.lead_id]


def test_an_unknown_loser_is_20103_and_nothing_is_merged(
    bridge: AppServer, upstream: LeadsyncServer
) -> None:
    [a] = statuses(bridge.call("syncMultipleLeads", sync_params([lead_record("w@x.com")])))
    refused = fault(merge(bridge, [("IDNUM", str(a.lead_id))], [("EMAIL", "none@x.com")]))
    assert refused.code == 20103
    assert len(upstream.leads()) == 1


def test_a_winner_merged_into_itself_is_refused(bridge: AppServer) -> None:
    [a] = statuses(bridge.call("syncMultipleLeads", sync_params([lead_record("s@x.com")])))
    key = [("IDNUM", str(a.lead_id))]
    assert fault(merge(bridge, key, [("EMAIL", "s@x.com")])).code == 20110
