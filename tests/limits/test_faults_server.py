"""Fault injection over the wire: rules given at start and through the admin API, each action,
determinism with a seed across worker processes, precedence, reset and the admin API's
protection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from limits_wire import (
    HTTP,
    TOKEN,
    admin,
    admin_json,
    emails,
    outcome,
    sync_one,
    unique_email,
)

from leadsync.limits.faults import fires
from leadsync.store.control import FaultRule
from support import Server, cli, count_leads, fault, running_server


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server with the admin API, shared by the tests that clear its rules first."""
    folder = tmp_path_factory.mktemp("faults")
    with running_server(folder, "--admin-token", TOKEN) as srv:
        yield srv


@pytest.fixture
def server(double: Server) -> Server:
    admin_json(double, "POST", "/reset", {"faults": True, "usage": True})
    return double


def add_rule(server: Server, rule: object) -> dict[str, object]:
    added: dict[str, object] = admin_json(server, "POST", "/faults", rule)["faults"][0]
    return added


def test_the_admin_api_needs_the_token(server: Server, tmp_path: Path) -> None:
    assert admin(server, "GET", "/faults", token="wrong").status_code == 401
    missing = HTTP.get(f"{server.base_url}/admin/faults")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert admin(server, "GET", "/faults").status_code == 200
    with running_server(tmp_path) as plain:
        assert HTTP.get(f"{plain.base_url}/admin/faults").status_code == 404


def test_start_up_rules_fail_the_next_calls_with_a_code(tmp_path: Path) -> None:
    rule = "op=syncMultipleLeads,code=20023,times=2"
    with running_server(tmp_path, "--inject", rule, "--inject", "op=getLead,code=20011") as srv:
        first, second = fault(sync_one(srv, "f1@x.com")), fault(sync_one(srv, "f2@x.com"))
        third = outcome(sync_one(srv, "f3@x.com"))
    assert (first.code, first.faultcode, first.faultstring) == (
        20023,
        "SOAP-ENV:Server",
        "20023 - Rate Limit Exceeded",
    )
    assert (second.code, third) == (20023, 0)
    assert count_leads(srv.database_url) == 1
    assert "fault rules fired" in srv.log()


def test_a_restart_replaces_the_rules(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'restart.db'}"
    with running_server(tmp_path, "--inject", "code=20011", database_url=db) as srv:
        assert outcome(sync_one(srv)) == 20011
    with running_server(tmp_path, "--admin-token", TOKEN, database_url=db, users=()) as srv:
        assert admin_json(srv, "GET", "/faults")["faults"] == []
        assert outcome(sync_one(srv)) == 0


def test_rules_added_at_run_time_are_listed_with_their_counts(server: Server) -> None:
    added = add_rule(server, {"op": "syncMultipleLeads", "code": 20024, "times": 1})
    other = add_rule(server, {"rule": "user=somebody-else,code=20011"})
    assert added["rule"] == f"op=syncMultipleLeads,code=20024,times=1,seed={added['seed']}"
    assert [outcome(sync_one(server)) for _ in range(3)] == [20024, 0, 0]
    listed = {r["id"]: r for r in admin_json(server, "GET", "/faults")["faults"]}
    assert (listed[added["id"]]["matched"], listed[added["id"]]["fired"]) == (1, 1)
    assert listed[other["id"]]["matched"] == 0
    assert admin_json(server, "GET", f"/faults/{other['id']}")["user"] == "somebody-else"
    assert admin_json(server, "DELETE", f"/faults/{other['id']}") == {"removed": 1}
    assert admin(server, "DELETE", f"/faults/{other['id']}").status_code == 404
    assert admin_json(server, "DELETE", "/faults") == {"removed": 1}


def test_bad_rules_are_refused_with_the_reason(server: Server) -> None:
    bad = admin(server, "POST", "/faults", {"op": "syncMultipleLead", "code": 20023})
    assert bad.status_code == 400
    assert "no operation 'syncMultipleLead'" in bad.json()["error"]
    assert admin(server, "POST", "/faults", {"rule": "code=99"}).status_code == 400
    assert admin(server, "POST", "/faults", [1, 2]).status_code == 400
    assert admin_json(server, "GET", "/faults")["faults"] == []


def test_drop_before_closes_the_connection_and_writes_nothing(server: Server) -> None:
    add_rule(server, {"op": "syncMultipleLeads", "drop": "before", "times": 1})
    email = unique_email("dropped")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        sync_one(server, email)
    assert email not in emails(server)
    assert outcome(sync_one(server)) == 0


def test_drop_after_writes_then_loses_the_answer(server: Server) -> None:
    add_rule(server, "op=syncMultipleLeads,drop=after,times=1")
    email = unique_email("lost-answer")
    with pytest.raises(httpx.RemoteProtocolError):
        sync_one(server, email)
    assert email in emails(server)


def test_http_status_answers_instead_of_the_call(server: Server) -> None:
    add_rule(server, {"status": 503, "times": 1})
    email = unique_email("unavailable")
    answer = sync_one(server, email)
    assert (answer.status_code, answer.text) == (503, "Service Unavailable\n")
    assert email not in emails(server)


def test_latency_is_added_and_combines_with_a_fault(server: Server) -> None:
    add_rule(server, {"delay": 0.4, "times": 2})
    add_rule(server, {"code": 20011, "times": 1})
    started = time.monotonic()
    slow_fault = outcome(sync_one(server))
    middle = time.monotonic()
    slow_ok = outcome(sync_one(server))
    end = time.monotonic()
    fast = outcome(sync_one(server))
    assert (slow_fault, slow_ok, fast) == (20011, 0, 0)
    assert middle - started >= 0.4
    assert end - middle >= 0.4
    assert time.monotonic() - end < 0.4


def test_the_first_rule_that_answers_wins(server: Server) -> None:
    add_rule(server, {"code": 20015, "times": 1})
    add_rule(server, {"code": 20016, "times": 1})
    # The second rule fires only once the first is used up: it was not used up meanwhile.
    assert [outcome(sync_one(server)) for _ in range(3)] == [20015, 20016, 0]


def test_reset_empties_leads_but_keeps_users(server: Server) -> None:
    sync_one(server)
    assert emails(server)
    result = admin_json(server, "POST", "/reset", {"faults": True})
    assert result["leads"] >= 1
    assert emails(server) == []
    assert outcome(sync_one(server)) == 0
    assert admin(server, "POST", "/reset", {"everything": True}).status_code == 400


def test_leads_can_be_inspected_and_paged(server: Server) -> None:
    for i in range(5):
        sync_one(server, f"page{i}@x.com")
    first = admin_json(server, "GET", "/leads", limit=3)
    assert [lead["email"] for lead in first["leads"]] == [
        "page0@x.com",
        "page1@x.com",
        "page2@x.com",
    ]
    rest = admin_json(server, "GET", "/leads", limit=3, after=first["next"])
    assert [lead["email"] for lead in rest["leads"]] == ["page3@x.com", "page4@x.com"]
    assert rest["next"] is None
    [found] = admin_json(server, "GET", "/leads", email="PAGE3@x.com")["leads"]
    assert admin_json(server, "GET", "/leads", id=found["id"])["leads"] == [found]
    assert admin(server, "GET", "/leads", limit=0).status_code == 400


def test_a_seeded_share_fires_on_the_same_calls_with_two_workers(
    tmp_path: Path, database_url: str
) -> None:
    flags = ("--workers", "2", "--admin-token", TOKEN, "--seed", "s33d")
    with running_server(tmp_path, *flags, database_url=database_url) as srv:
        add_rule(srv, "op=syncMultipleLeads,code=20011,p=0.4")
        got = [outcome(sync_one(srv)) for _ in range(30)]
        [rule] = admin_json(srv, "GET", "/faults")["faults"]
    expected = [
        20011 if fires(FaultRule(probability=0.4, seed="s33d"), k) else 0 for k in range(1, 31)
    ]
    assert got == expected
    assert 0 < got.count(20011) < 30
    assert (rule["matched"], rule["fired"]) == (30, got.count(20011))
    assert count_leads(srv.database_url) == got.count(0)


def test_reset_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'reset.db'}"
    with running_server(tmp_path, database_url=db) as srv:
        sync_one(srv)
        sync_one(srv)
    refused = cli("reset", "--database", db, input="n\n")
    assert refused.returncode != 0
    assert count_leads(db) == 2
    done = cli("reset", "--database", db, "--usage", "--faults", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "deleted 2 leads\nforgot call counts\nremoved 0 fault rules\n"
    assert count_leads(db) == 0
    listed = cli("users", "list", "--database", db)
    assert listed.stdout.startswith(srv.user_id)
