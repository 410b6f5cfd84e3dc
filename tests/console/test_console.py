"""The console in-process, on every backend: signing in, sessions, CSRF, and each page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from leadsync.app import create_app
from leadsync.cli import main
from leadsync.config import Settings
from leadsync.console.passwords import hash_password, verify_password
from leadsync.console.sessions import COOKIE, LoginThrottle, Sessions
from leadsync.operations.identity import create_service
from leadsync.store.base import Store
from leadsync.store.console import LeadSearch
from support import DEMO_KEY, DEMO_USER, envelope, lead_record, sync_params

PASSWORD = "correct horse battery"
XSS = '<script>document.title="pwned"</script>"\'&'


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _sign_in(client: TestClient, name: str = "alice", password: str = PASSWORD) -> httpx.Response:
    token = _csrf(client.get("/console/login").text)
    return client.post("/console/login", data={"csrf": token, "name": name, "password": password})


def _sync(client: TestClient, *records: str) -> httpx.Response:
    body = envelope("syncMultipleLeads", sync_params(list(records)))
    response = client.post("/soap/mktows/2_2", content=body)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def app(store: Store) -> Starlette:
    store.add_user(DEMO_USER, DEMO_KEY)
    store.console().add_user("alice", hash_password(PASSWORD), 0)
    return create_app(Settings(admin_token="t0ken"), store)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as tc:
        assert _sign_in(tc).status_code == 303
        yield tc


def test_without_a_console_user_the_console_says_how_to_make_one(store: Store) -> None:
    with TestClient(create_app(Settings(), store), follow_redirects=False) as tc:
        for path in ("/console/", "/console/leads", "/console/login"):
            response = tc.get(path)
            assert response.status_code == 503
            assert "leadsync console add-user NAME" in response.text


def test_the_root_leads_to_the_console(app: Starlette) -> None:
    with TestClient(app, follow_redirects=False) as tc:
        response = tc.get("/")
    assert (response.status_code, response.headers["location"]) == (302, "/console/")


def test_pages_need_a_session(app: Starlette) -> None:
    with TestClient(app, follow_redirects=False) as tc:
        response = tc.get("/console/leads?email=a")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fleads%3Femail%3Da"
        assert _sign_in(tc, password="wrong password").status_code == 401
        assert _sign_in(tc, name="nobody").status_code == 401
        signed_in = _sign_in(tc)
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/console", "Max-Age=1800"):
        assert attribute.lower() in cookie.lower()


def test_after_sign_in_it_goes_where_it_was_asked_but_only_within_the_console(
    app: Starlette,
) -> None:
    with TestClient(app, follow_redirects=False) as tc:
        token = _csrf(tc.get("/console/login").text)
        form = {"csrf": token, "name": "alice", "password": PASSWORD}
        inside = tc.post("/console/login?next=%2Fconsole%2Fcalls", data=form)
        assert inside.headers["location"] == "/console/calls"
        form["csrf"] = _csrf(tc.get("/console/login").text)
        outside = tc.post("/console/login?next=https%3A%2F%2Fevil.example", data=form)
        assert outside.headers["location"] == "/console/"


def test_sign_in_is_throttled(app: Starlette) -> None:
    with TestClient(app, follow_redirects=False) as tc:
        for _ in range(5):
            assert _sign_in(tc, password="wrong password").status_code == 401
        refused = _sign_in(tc)
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.text


def test_the_throttle_lets_go_once_the_window_has_passed() -> None:
    now = [1000.0]
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=lambda: now[0])
    throttle.failed("name:a")
    throttle.failed("name:a")
    assert throttle.wait_seconds("name:a", "addr:x") == 60
    now[0] += 30
    assert throttle.wait_seconds("name:a") == 30
    now[0] += 30.5
    assert throttle.wait_seconds("name:a") == 0


def _request(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "headers": headers, "method": "GET", "path": "/console/"})


def test_a_session_ends_when_idle_for_too_long() -> None:
    now = [10_000.0]
    sessions = Sessions("k" * 32, idle_seconds=60, secure=True, clock=lambda: now[0])
    session = sessions.load(_request(None))
    sessions.sign_in(session, "alice")
    response = Response()
    sessions.save(session, response)
    assert "secure" in response.headers["set-cookie"].lower()
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    now[0] += 59
    assert sessions.load(_request(cookie)).user == "alice"
    now[0] += 2
    assert sessions.load(_request(cookie)).user is None
    now[0] -= 2
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert sessions.load(_request(forged)).user is None
    other_key = Sessions("j" * 32, idle_seconds=60, secure=True, clock=lambda: now[0])
    assert other_key.load(_request(cookie)).user is None


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, store: Store) -> None:
    for data in ({"action": "add", "rule": "code=20011"}, {"csrf": "forged", "rule": "code=20011"}):
        response = client.post("/console/faults", data=data)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert store.faults().rules() == []
    assert client.post("/console/logout", data={}).status_code == 403


def test_signing_out_ends_the_session(client: TestClient) -> None:
    token = _csrf(client.get("/console/").text)
    assert client.post("/console/logout", data={"csrf": token}).status_code == 303
    assert client.get("/console/").status_code == 303


def test_a_removed_console_user_is_signed_out(client: TestClient, store: Store) -> None:
    assert client.get("/console/").status_code == 200
    store.console().remove_user("alice")
    store.console().add_user("bob", hash_password(PASSWORD), 0)
    assert client.get("/console/").status_code == 303


def test_every_page_answers_with_headers_that_forbid_scripts(client: TestClient) -> None:
    _sync(client, lead_record("p@example.com"))
    client.app.state.call_history.flush()  # type: ignore[attr-defined]
    for path in (
        "/console/",
        "/console/leads",
        "/console/leads/1",
        "/console/calls",
        "/console/users",
        "/console/faults",
        "/console/jobs",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src" not in response.headers["content-security-policy"]
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert "<script" not in response.text
    assert client.get("/console/static/console.css").status_code == 200


def test_database_values_are_escaped(client: TestClient) -> None:
    _sync(client, lead_record("x@example.com", {"FirstName": XSS, "Company": XSS}))
    for path in ("/console/leads", "/console/leads/1", "/console/leads?company=script"):
        html = client.get(path).text
        assert "<script>document" not in html
        assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html


def test_leads_search_and_keyset_paging(client: TestClient, store: Store) -> None:
    _sync(
        client,
        *(
            lead_record(f"page{n:03}@example.com", {"LastName": f"Name{n}", "Company": "Acme"})
            for n in range(120)
        ),
        lead_record("ada@lovelace.example", {"FirstName": "Ada", "LastName": "Lovelace"}),
    )
    first = client.get("/console/leads?company=acme&sort=oldest").text
    assert first.count('href="/console/leads/') == 50
    assert "page000@example.com" in first
    assert "page049@example.com" in first
    next_link = re.search(r'href="/console/leads(\?[^"]*after=\d+[^"]*)" rel="next"', first)
    assert next_link
    second = client.get("/console/leads" + next_link.group(1).replace("&amp;", "&")).text
    assert "page050@example.com" in second
    assert "page049@example.com" not in second
    assert "ada@lovelace.example" in client.get("/console/leads?name=lovelace").text
    assert "ada@lovelace.example" in client.get("/console/leads?name=ada+love").text
    by_email = client.get("/console/leads?email=PAGE11").text
    assert by_email.count('href="/console/leads/') == 10
    assert "must be a whole number" in client.get("/console/leads?id=x").text
    console = store.console()
    newest = console.search_leads(LeadSearch(), 2)
    assert [lead.email for lead in newest] == ["ada@lovelace.example", "page119@example.com"]
    below = console.search_leads(LeadSearch(cursor=newest[-1].id), 1)
    assert below[0].email == "page118@example.com"
    assert console.search_leads(LeadSearch(company="100%"), 5) == []


def test_a_lead_shows_fields_lists_and_timeline(client: TestClient, store: Store) -> None:
    _sync(client, lead_record("t@example.com", {"FirstName": "Tim", "Company": "Old"}))
    _sync(client, lead_record("t@example.com", {"Company": "New"}))
    target = store.add_static_list("Newsletter")
    with store.write() as writer:
        writer.add_list_members(target.id, [1], writer.leads_by_ids([1])[1].updated_at)
    html = client.get("/console/leads/1").text
    assert "<code>FirstName</code></td><td><code>firstName</code>" in html
    assert "Newsletter" in html
    assert "NewLead" in html
    assert "ChangeDataValue" in html
    assert "Old" in html
    assert client.get("/console/leads/99").status_code == 404


def test_calls_page_filters_and_opens_a_call(client: TestClient) -> None:
    _sync(client, lead_record("c@example.com"), lead_record("no-at-sign"))
    bad = envelope("getLead", "", key="wrong")
    assert client.post("/soap/mktows/2_2", content=bad).status_code == 500
    client.app.state.call_history.flush()  # type: ignore[attr-defined]
    listing = client.get("/console/calls").text
    assert "<td>syncMultipleLeads</td>" in listing
    assert "20014" in listing
    only_faults = client.get("/console/calls?fault=any").text
    assert "<td>syncMultipleLeads</td>" not in only_faults
    assert "20014" in only_faults
    assert "20014" not in client.get("/console/calls?operation=syncMultipleLeads").text
    call_id = re.search(
        r'href="/console/calls/(\d+)"',
        client.get(f"/console/calls?user={DEMO_USER}&operation=syncMultipleLeads").text,
    )
    assert call_id
    detail = client.get(f"/console/calls/{call_id.group(1)}").text
    assert "Failed records" in detail
    assert "no-at-sign" in detail or "Email" in detail


def test_users_page_creates_rotates_and_limits(client: TestClient, store: Store) -> None:
    token = _csrf(client.get("/console/users").text)
    created = client.post("/console/users", data={"csrf": token, "action": "create", "user": "u2"})
    key = re.search(r'<code class="secret">([0-9a-f]+)</code>', created.text)
    assert key
    assert store.get_user("u2").encryption_key == key.group(1)  # type: ignore[union-attr]
    rotated = client.post(
        "/console/users", data={"csrf": token, "action": "rotate", "user": "u2", "grace": "0"}
    )
    new_key = re.search(r'<code class="secret">([0-9a-f]+)</code>', rotated.text)
    assert new_key
    assert new_key.group(1) != key.group(1)
    assert store.get_user("u2").encryption_key == new_key.group(1)  # type: ignore[union-attr]
    form = {"csrf": token, "action": "limits", "user": "u2", "daily_quota": "7", "rate": "5/10s"}
    assert client.post("/console/users", data=form).status_code == 303
    limits = store.limits().overrides("u2")
    assert (limits.daily_quota, limits.rate_calls, limits.rate_window_ms) == (7, 5, 10_000)
    bad = client.post("/console/users", data={**form, "daily_quota": "-1"})
    assert "negative" in bad.headers["location"]


def test_fault_rules_added_in_the_console_fail_the_next_call(client: TestClient) -> None:
    token = _csrf(client.get("/console/faults").text)
    added = client.post(
        "/console/faults",
        data={"csrf": token, "action": "add", "rule": "op=syncMultipleLeads,code=20023,times=1"},
    )
    assert added.status_code == 303
    assert "times=1" in client.get("/console/faults").text
    body = envelope("syncMultipleLeads", sync_params([lead_record("f@example.com")]))
    failed = client.post("/soap/mktows/2_2", content=body)
    assert failed.status_code == 500
    assert "20023" in failed.text
    refused = client.post("/console/faults", data={"csrf": token, "action": "add", "rule": "x=1"})
    assert "Not%20added" in refused.headers["location"]
    rule_id = re.search(r'name="rule" value="(\d+)"', client.get("/console/faults").text)
    assert rule_id
    client.post(
        "/console/faults", data={"csrf": token, "action": "remove", "rule": rule_id.group(1)}
    )
    assert "No rules." in client.get("/console/faults").text


def test_console_users_cli(tmp_path: pytest.TempPathFactory) -> None:
    db = f"sqlite:///{tmp_path}/c.db"
    runner = CliRunner()
    added = runner.invoke(
        main, ["console", "add-user", "ops", "--database", db], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert added.exit_code == 0, added.output
    assert "console user ops created" in added.output
    short = runner.invoke(
        main, ["console", "add-user", "x", "--password", "short", "--database", db]
    )
    assert short.exit_code == 1
    assert "Error: a password needs at least 8 characters" in short.output
    again = runner.invoke(
        main, ["console", "add-user", "ops", "--password", PASSWORD, "--database", db]
    )
    assert again.exit_code == 1
    listed = runner.invoke(main, ["console", "list-users", "--database", db])
    assert listed.output.startswith("ops\t")
    assert PASSWORD not in listed.output
    removed = runner.invoke(main, ["console", "remove-user", "ops", "--database", db])
    assert removed.exit_code == 0
    missing = runner.invoke(main, ["console", "remove-user", "ops", "--database", db])
    assert missing.exit_code == 1
    assert "Error: no console user 'ops'" in missing.output


def test_passwords_are_stored_as_argon2id() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, "other password")
    assert not verify_password("not a hash", PASSWORD)


def test_users_page_lists_and_creates_rest_services(client: TestClient, store: Store) -> None:
    token = _csrf(client.get("/console/users").text)
    created = client.post(
        "/console/users", data={"csrf": token, "action": "create_service", "name": "CRM <sync>"}
    )
    assert created.status_code == 200
    client_id, secret = re.findall(r'<code class="secret">([^<]+)</code>', created.text)
    service = store.services().get_service(client_id)
    assert service is not None
    assert service.client_secret == secret
    listing = client.get("/console/users").text
    assert "CRM &lt;sync&gt;" in listing
    assert secret not in listing
    nameless = client.post("/console/users", data={"csrf": token, "action": "create_service"})
    assert "needs%20a%20name" in nameless.headers["location"]


def test_a_search_no_index_serves_answers_in_bounded_steps(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadsync.console import pages

    _sync(client, *(lead_record(f"s{n}@example.com", {"Company": f"Co{n}"}) for n in range(30)))
    _sync(client, lead_record("target@example.com", {"Company": "Rare Corp"}))
    _sync(client, *(lead_record(f"t{n}@example.com", {"Company": f"Co{n}"}) for n in range(30)))
    monkeypatch.setattr(pages, "SCAN_WINDOW", 10)
    monkeypatch.setattr(pages, "SCAN_SECONDS", 0.0)
    first = client.get("/console/leads?company=rare").text
    # One window of the newest ten ids, then out of time: nothing yet, and where it got to.
    assert "No lead matches." in first
    assert "Searched the leads down to id 52" in first
    link = re.search(r'href="/console/leads(\?[^"]*)" rel="next">Continue searching', first)
    assert link
    url = "/console/leads" + link.group(1).replace("&amp;", "&")
    while "target@example.com" not in (page := client.get(url).text):
        link = re.search(r'href="/console/leads(\?[^"]*)" rel="next">Continue searching', page)
        assert link, page
        url = "/console/leads" + link.group(1).replace("&amp;", "&")
    monkeypatch.setattr(pages, "SCAN_SECONDS", 10.0)
    assert "target@example.com" in client.get("/console/leads?company=rare&sort=oldest").text


def test_rest_calls_in_the_calls_users_and_fault_rules_pages(
    store: Store, client: TestClient
) -> None:
    service = create_service(store, "etl", datetime.now(UTC))
    grant = {
        "grant_type": "client_credentials",
        "client_id": service.client_id,
        "client_secret": service.client_secret,
    }
    token = client.get("/identity/oauth/token", params=grant).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    sync = {"input": [{"email": "r@example.com"}]}
    assert client.post("/rest/v1/leads.json", json=sync, headers=bearer).json()["success"]
    csrf = _csrf(client.get("/console/faults").text)
    rule = {"csrf": csrf, "action": "add", "rule": "op=syncLeads,code=606,times=1"}
    assert client.post("/console/faults", data=rule).status_code == 303
    refused = client.post("/rest/v1/leads.json", json=sync, headers=bearer).json()
    assert refused["errors"][0]["code"] == "606"
    client.app.state.call_history.flush()  # type: ignore[attr-defined]

    rest_calls = client.get("/console/calls?api=rest").text
    assert rest_calls.count("<td>syncLeads</td>") == 2
    assert "<td>identity</td>" in rest_calls
    assert f"<td>{service.client_id}</td>" in rest_calls
    assert "<option>syncLeads</option>" in rest_calls
    assert "<td>syncLeads</td>" not in client.get("/console/calls?api=soap").text
    faults = client.get("/console/calls?operation=syncLeads&fault=606").text
    assert faults.count("<td>syncLeads</td>") == 1

    users = client.get("/console/users").text
    row = users[users.index("<code>@rest</code>") :].split("</tr>")[0]
    assert "REST calls of every service" in row
    assert '<td class="num">2</td>' in row  # both syncs were admitted
    assert "Rotate key" not in row
    service_row = users[users.index(f"<code>{service.client_id}</code>") :].split("</tr>")[0]
    assert service_row.endswith('<td class="num">2</td>')
