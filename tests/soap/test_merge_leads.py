"""mergeLeads: the winner keeps its id and values; losers fill its gaps and go."""

from __future__ import annotations

import httpx
import pytest

from leadapi import (
    body_of,
    create,
    get_lead,
    get_multiple,
    key_selector,
    key_xml,
    list_operation,
    list_result,
    page_of,
    sync,
    unique,
)
from support import Server, cli, fault, lead_record


def attrs(*pairs: tuple[str, str | int]) -> str:
    return "".join(
        f"<attribute><attrName>{name}</attrName><attrValue>{value}</attrValue></attribute>"
        for name, value in pairs
    )


def merge(
    server: Server,
    winner: list[tuple[str, str | int]],
    losers: list[list[tuple[str, str | int]]],
) -> httpx.Response:
    key_lists = "".join(f"<keyList>{attrs(*keys)}</keyList>" for keys in losers)
    return server.call(
        "mergeLeads",
        f"<winningLeadKeyList>{attrs(*winner)}</winningLeadKeyList>"
        f"<losingLeadKeyLists>{key_lists}</losingLeadKeyLists>",
    )


def status(response: httpx.Response) -> tuple[int, list[int], str]:
    found = body_of(response, "mergeLeads").find("result/mergeStatus")
    assert found is not None
    assert [c.tag for c in found] == ["winningLeadId", "losingLeadIdList", "status", "error"]
    losers = [int(i.text or "0") for i in found.iterfind("losingLeadIdList/integerItem")]
    return int(found.findtext("winningLeadId") or "0"), losers, found.findtext("status") or ""


def test_winner_keeps_its_id_and_values_and_losers_fill_its_gaps(server: Server) -> None:
    w_email, l1_email, l2_email = unique(), unique(), unique()
    [winner] = sync(server, lead_record(w_email, {"FirstName": "Win", "City": ""}))
    [first] = sync(
        server,
        lead_record(l1_email, {"FirstName": "Lose", "City": "Lyon"}, fsp="m-" + l1_email),
    )
    [second] = sync(server, lead_record(l2_email, {"City": "Paris", "Title": "CTO"}))
    response = merge(
        server,
        [("IDNUM", winner.lead_id)],
        [[("IDNUM", first.lead_id)], [("EMAIL", l2_email)]],
    )
    assert status(response) == (winner.lead_id, [first.lead_id, second.lead_id], "MERGED")
    assert b'<error xsi:nil="true" />' in response.content
    [rec] = get_lead(server, "IDNUM", winner.lead_id)
    assert (rec.email, rec.fsp) == (w_email, "m-" + l1_email)
    assert {k: v for k, (_, v) in rec.attrs.items()} == {
        "FirstName": "Win",
        "City": "Lyon",
        "Title": "CTO",
    }
    # The losers are gone from every read, and their keys now find the winner.
    for loser in (first.lead_id, second.lead_id):
        assert fault(server.call("getLead", key_xml("IDNUM", loser))).code == 20103
    ids = [first.lead_id, second.lead_id, winner.lead_id]
    assert page_of(get_multiple(server, key_selector("IDNUM", ids))).ids == [winner.lead_id]
    assert [r.id for r in get_lead(server, "SFDCLEADID", "m-" + l1_email)] == [winner.lead_id]
    assert fault(server.call("getLead", key_xml("EMAIL", l2_email))).code == 20103


def test_losers_list_memberships_move_to_the_winner(server: Server) -> None:
    name = "Merge.List." + unique("l")
    assert cli("lists", "add", name, "--database", server.database_url).returncode == 0
    winner, loser = create(server, 2)
    list_operation(server, "ADDTOLIST", name, [loser])
    assert status(merge(server, [("IDNUM", winner)], [[("IDNUM", loser)]]))[2] == "MERGED"
    member = list_result(list_operation(server, "ISMEMBEROFLIST", name, [winner]))
    assert member.statuses == [(str(winner), True)]


def test_two_losers_in_one_key_list(server: Server) -> None:
    # Marketo's Ruby sample sends both losers inside a single keyList.
    winner, a, b = create(server, 3)
    response = merge(server, [("IDNUM", winner)], [[("IDNUM", a), ("IDNUM", b)]])
    assert status(response) == (winner, [a, b], "MERGED")


def test_a_later_sync_by_a_losers_email_updates_the_winner(server: Server) -> None:
    w_email, l_email = unique(), unique()
    [winner] = sync(server, lead_record(w_email))
    [loser] = sync(server, lead_record(l_email))
    merge(server, [("IDNUM", winner.lead_id)], [[("IDNUM", loser.lead_id)]])
    [again] = sync(server, lead_record(l_email, {"City": "X"}))
    assert again.status == "CREATED"  # the winner kept its own email


@pytest.mark.parametrize(
    ("winner", "losers", "code"),
    [
        ([("IDNUM", 999_999_991)], [[("IDNUM", "LOSER")]], 20103),
        ([("IDNUM", "WINNER")], [[("IDNUM", 999_999_992)]], 20103),
        ([("EMAIL", "nobody@nowhere.example")], [[("IDNUM", "LOSER")]], 20103),
        ([("IDNUM", "WINNER")], [[("IDNUM", "WINNER")]], 20110),
        ([], [[("IDNUM", "LOSER")]], 20101),
        ([("IDNUM", "WINNER")], [], 20109),
        ([("PHONE", "1")], [[("IDNUM", "LOSER")]], 20102),
        ([("IDNUM", "WINNER"), ("IDNUM", "LOSER")], [[("IDNUM", "LOSER")]], 20110),
    ],
)
def test_faults_change_nothing(
    server: Server,
    winner: list[tuple[str, str | int]],
    losers: list[list[tuple[str, str | int]]],
    code: int,
) -> None:
    w, lo = create(server, 2)

    def real(keys: list[tuple[str, str | int]]) -> list[tuple[str, str | int]]:
        return [(t, w if v == "WINNER" else lo if v == "LOSER" else v) for t, v in keys]

    got = fault(merge(server, real(winner), [real(keys) for keys in losers]))
    assert got.code == code
    assert [r.id for r in get_lead(server, "IDNUM", lo)] == [lo]
    assert [r.id for r in get_lead(server, "IDNUM", w)] == [w]
