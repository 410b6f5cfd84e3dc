"""listOperation: add, check, remove, strict mode, and its faults."""

from __future__ import annotations

import pytest

from leadapi import create, list_operation, list_result, unique
from support import Server, cli, fault


@pytest.fixture
def name(server: Server) -> str:
    created = "Prog." + unique("list")
    done = cli("lists", "add", created, "--database", server.database_url)
    assert done.returncode == 0, done.stderr
    return created


def members(server: Server, name: str, ids: list[int]) -> list[bool]:
    result = list_result(list_operation(server, "ISMEMBEROFLIST", name, ids))
    assert result.statuses is not None
    return [ok for _, ok in result.statuses]


def test_add_check_remove(server: Server, name: str) -> None:
    a, b, c = create(server, 3)
    added = list_result(list_operation(server, "ADDTOLIST", name, [a, b]))
    assert (added.success, added.statuses) == (True, None)
    check = list_result(list_operation(server, "ISMEMBEROFLIST", name, [a, b, c]))
    assert check == type(check)(False, [(str(a), True), (str(b), True), (str(c), False)])
    assert list_result(list_operation(server, "ISMEMBEROFLIST", name, [a, b])).success
    removed = list_result(list_operation(server, "REMOVEFROMLIST", name, [a]))
    assert (removed.success, removed.statuses) == (True, None)
    assert members(server, name, [a, b]) == [False, True]


def test_adding_a_member_again_succeeds(server: Server, name: str) -> None:
    [a] = create(server, 1)
    list_operation(server, "ADDTOLIST", name, [a])
    assert list_result(list_operation(server, "ADDTOLIST", name, [a])).success


def test_non_strict_does_what_it_can(server: Server, name: str) -> None:
    a, b = create(server, 2)
    added = list_result(list_operation(server, "ADDTOLIST", name, [a, 999_999_999, b]))
    assert added.success is False
    assert added.statuses == [(str(a), True), ("999999999", False), (str(b), True)]
    assert members(server, name, [a, b]) == [True, True]
    removed = list_result(list_operation(server, "REMOVEFROMLIST", name, [a, 999_999_999]))
    assert removed.statuses == [(str(a), True), ("999999999", False)]
    assert members(server, name, [a, b]) == [False, True]


def test_strict_changes_nothing_when_any_lead_fails(server: Server, name: str) -> None:
    a, b = create(server, 2)
    added = list_result(list_operation(server, "ADDTOLIST", name, [a, 999_999_999], strict="true"))
    assert added.success is False
    assert added.statuses == [(str(a), True), ("999999999", False)]
    assert members(server, name, [a]) == [False]
    list_operation(server, "ADDTOLIST", name, [a])
    removed = list_result(list_operation(server, "REMOVEFROMLIST", name, [a, b], strict="true"))
    assert removed.statuses == [(str(a), True), (str(b), False)]
    assert members(server, name, [a]) == [True]


def test_list_names_ignore_case(server: Server, name: str) -> None:
    [a] = create(server, 1)
    assert list_result(list_operation(server, "addtolist", name.upper(), [a])).success


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"list_name": "No.Such.List"}, 20111),
        ({"list_key_type": "MKTOSALESUSERID"}, 20111),
        ({"list_key_type": "SFDCLEADOWNERID"}, 20111),
        ({"list_key_type": "FOLDER"}, 20110),
        ({"operation": "COPYLIST"}, 20110),
        ({"key_type": "EMAIL"}, 20102),
        ({"key_type": "BOGUS"}, 20102),
    ],
)
def test_faults(server: Server, name: str, kwargs: dict[str, str], code: int) -> None:
    [a] = create(server, 1)
    call = {"operation": "ADDTOLIST", "list_name": name, **kwargs}
    operation, list_name = call.pop("operation"), call.pop("list_name")
    assert fault(list_operation(server, operation, list_name, [a], **call)).code == code
    assert members(server, name, [a]) == [False]


def test_more_than_1000_leads_is_20110(server: Server, name: str) -> None:
    assert fault(list_operation(server, "ADDTOLIST", name, range(1, 1002))).code == 20110


def test_missing_parts_are_20109(server: Server, name: str) -> None:
    assert fault(server.call("listOperation", "<listOperation>ADDTOLIST</listOperation>")).code == (
        20109
    )
