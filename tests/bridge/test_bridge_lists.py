"""listOperation through the bridge: the list found upstream by name, then Add to List,
Remove from List and Member of List."""

from __future__ import annotations

from lxml import etree

from inprocess import AppServer
from leadsync.store import open_store
from leadsync.testing import LeadsyncServer
from support import fault, lead_record, statuses, sync_params


def _list(upstream: LeadsyncServer, name: str) -> None:
    store = open_store(upstream.database_url)
    try:
        if all(item.name != name for item in store.static_lists()):
            store.add_static_list(name)
    finally:
        store.close()


def operation(
    bridge: AppServer, action: str, ids: list[int], *, strict: bool = False
) -> etree._Element:
    members = "".join(
        f"<leadKey><keyType>IDNUM</keyType><keyValue>{i}</keyValue></leadKey>" for i in ids
    )
    params = (
        f"<listOperation>{action}</listOperation>"
        "<listKey><keyType>MKTOLISTNAME</keyType><keyValue>Bridge List</keyValue></listKey>"
        f"<listMemberList>{members}</listMemberList><strict>{str(strict).lower()}</strict>"
    )
    response = bridge.call("listOperation", params)
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def _outcome(root: etree._Element) -> tuple[str | None, list[str | None]]:
    return root.findtext(".//result/success"), [
        s.findtext("status") for s in root.iter("leadStatus")
    ]


def test_add_check_and_remove(bridge: AppServer, upstream: LeadsyncServer) -> None:
    _list(upstream, "Bridge List")
    a, b = statuses(
        bridge.call(
            "syncMultipleLeads", sync_params([lead_record("l1@x.com"), lead_record("l2@x.com")])
        )
    )
    assert _outcome(operation(bridge, "ADDTOLIST", [a.lead_id])) == ("true", [])
    assert _outcome(operation(bridge, "ISMEMBEROFLIST", [a.lead_id, b.lead_id])) == (
        "false",
        ["true", "false"],
    )
    # Strict: one lead that is not a member, so nothing is removed.
    assert _outcome(operation(bridge, "REMOVEFROMLIST", [a.lead_id, b.lead_id], strict=True)) == (
        "false",
        ["true", "false"],
    )
    assert _outcome(operation(bridge, "ISMEMBEROFLIST", [a.lead_id]))[0] == "true"
    assert _outcome(operation(bridge, "REMOVEFROMLIST", [a.lead_id, b.lead_id])) == (
        "false",
        ["true", "false"],
    )
    assert _outcome(operation(bridge, "ISMEMBEROFLIST", [a.lead_id]))[0] == "false"
    assert _outcome(operation(bridge, "ADDTOLIST", [a.lead_id, 999_999])) == (
        "false",
        ["true", "false"],
    )


def test_an_unknown_list_is_20111(bridge: AppServer) -> None:
    params = (
        "<listOperation>ADDTOLIST</listOperation>"
        "<listKey><keyType>MKTOLISTNAME</keyType><keyValue>No Such</keyValue></listKey>"
        "<listMemberList><leadKey><keyType>IDNUM</keyType><keyValue>1</keyValue></leadKey>"
        "</listMemberList>"
    )
    assert fault(bridge.call("listOperation", params)).code == 20111
