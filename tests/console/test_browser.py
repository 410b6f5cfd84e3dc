"""The console in a real headless Chromium (Debian's chromium and chromium-driver, which
``make test`` installs), against a real ``leadsync serve``.

Screenshots of each page land in a temporary folder (printed by ``-rA``), or in
``LEADSYNC_SCREENSHOTS`` when set (docs/console.md's pictures come from there).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from leadsync.operations.identity import create_service
from leadsync.store import open_store
from leadsync.testing import start_server
from support import (
    Server,
    envelope,
    fault,
    lead_record,
    run_cli,
    running_server,
    sync_params,
)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
NAME, PASSWORD = "operator", "browser test password"
XSS_NAME = "<script>document.title='pwned'</script>"
XSS_COMPANY = "<img src=x onerror=\"document.title='pwned'\">"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser-server")
    # An admin token makes calls consult fault rules (docs/testing.md).
    with running_server(tmp, "--admin-token", "browser-token") as srv:
        added = run_cli(
            "console", "add-user", NAME, "--password", PASSWORD, "--database", srv.database_url
        )
        assert added.returncode == 0, added.stderr
        yield srv


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("LEADSYNC_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            pytest.fail(f"{path} is missing: 'make system-deps' installs chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(browser: WebDriver, server: Server) -> None:
    browser.delete_all_cookies()
    browser.get(server.base_url + "/console/")
    assert "/console/login" in browser.current_url
    browser.find_element(By.NAME, "name").send_keys(NAME)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    _click(browser, browser.find_element(By.CSS_SELECTOR, "form.stacked button"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Overview"


def _click(browser: WebDriver, element: WebElement) -> None:
    """Click what loads a new page, and wait until it has replaced the old one."""
    old = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, 30).until(lambda _: _replaced(old))


def _replaced(old: WebElement) -> bool:
    try:
        return bool(expected_conditions.staleness_of(old)(None))
    except WebDriverException as exc:
        # Asked while the new page replaces the old, chromedriver may say so in other words.
        if "does not belong to the document" in str(exc):
            return True
        raise


def _sync(server: Server, *records: str) -> None:
    response = server.call("syncMultipleLeads", sync_params(list(records)))
    assert response.status_code == 200, response.text


def test_sign_in(browser: WebDriver, server: Server, shots: Path) -> None:
    browser.delete_all_cookies()
    browser.get(server.base_url + "/console/leads")
    browser.save_screenshot(str(shots / "login.png"))
    browser.find_element(By.NAME, "name").send_keys(NAME)
    browser.find_element(By.NAME, "password").send_keys("not the password")
    _click(browser, browser.find_element(By.CSS_SELECTOR, "form.stacked button"))
    assert "Wrong name or password" in browser.find_element(By.CSS_SELECTOR, ".error").text
    browser.find_element(By.NAME, "name").send_keys(NAME)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    _click(browser, browser.find_element(By.CSS_SELECTOR, "form.stacked button"))
    # Back where it was asked to go.
    assert browser.current_url.endswith("/console/leads")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Leads"
    cookie = browser.get_cookie("leadsync_console")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"


def test_find_a_lead_created_over_soap(browser: WebDriver, server: Server, shots: Path) -> None:
    attrs = {"FirstName": "Grace", "LastName": "Hopper", "Company": "Navy"}
    _sync(server, lead_record("grace.hopper@example.com", attrs))
    _sync(server, lead_record("grace.hopper@example.com", {"Title": "Rear Admiral"}))
    _sign_in(browser, server)
    browser.save_screenshot(str(shots / "overview.png"))
    _click(browser, browser.find_element(By.LINK_TEXT, "Leads"))
    browser.find_element(By.NAME, "email").send_keys("GRACE.h")
    _click(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 1
    assert "grace.hopper@example.com" in rows[0].text
    browser.save_screenshot(str(shots / "leads.png"))
    _click(browser, rows[0].find_element(By.TAG_NAME, "a"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Lead ")
    fields = browser.find_element(By.CSS_SELECTOR, "table.fields").text
    assert "FirstName firstName Grace" in fields
    assert "Title title Rear Admiral" in fields
    timeline = browser.find_element(By.CSS_SELECTOR, "table.timeline").text
    assert "NewLead" in timeline
    assert "ChangeDataValue" in timeline
    assert "Rear Admiral" in timeline
    browser.save_screenshot(str(shots / "lead.png"))


def test_a_fault_rule_added_fails_the_next_soap_call(
    browser: WebDriver, server: Server, shots: Path
) -> None:
    _sign_in(browser, server)
    browser.get(server.base_url + "/console/faults")
    browser.find_element(By.CSS_SELECTOR, "main > form.inline input[name=rule]").send_keys(
        "op=getLead,code=20023,times=1"
    )
    _click(browser, browser.find_element(By.CSS_SELECTOR, "main > form.inline button"))
    assert "Rule added." in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert "op=getLead,code=20023,times=1" in browser.find_element(By.TAG_NAME, "table").text
    browser.save_screenshot(str(shots / "faults.png"))
    params = "<leadKey><keyType>EMAIL</keyType><keyValue>nobody@example.com</keyValue></leadKey>"
    assert fault(server.call("getLead", params)).code == 20023
    # times=1: the call after it is not touched.
    assert "20023" not in server.call("getLead", params).text
    # The history is written in the background, about once a second.
    calls = server.base_url + "/console/calls?fault=20023"
    WebDriverWait(browser, 20, poll_frequency=0.3).until(
        lambda driver: (
            driver.get(calls) or "getLead" in driver.find_element(By.TAG_NAME, "tbody").text
        )
    )
    browser.save_screenshot(str(shots / "calls.png"))
    _click(browser, browser.find_element(By.CSS_SELECTOR, "tbody a"))
    assert "20023" in browser.find_element(By.CSS_SELECTOR, "dd.fault").text
    browser.save_screenshot(str(shots / "call.png"))


def test_rotate_a_key(browser: WebDriver, server: Server, shots: Path) -> None:
    added = run_cli(
        "users",
        "add",
        "rotating-user",
        "--encryption-key",
        "old-key-1234",
        "--database",
        server.database_url,
    )
    assert added.returncode == 0, added.stderr
    _sign_in(browser, server)
    browser.get(server.base_url + "/console/users")
    row = next(
        tr
        for tr in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
        if "rotating-user" in tr.text
    )
    grace = row.find_element(By.NAME, "grace")
    grace.clear()
    grace.send_keys("0")
    _click(browser, row.find_element(By.NAME, "rotate"))
    new_key = browser.find_element(By.CSS_SELECTOR, "code.secret").text
    assert new_key
    assert new_key != "old-key-1234"
    browser.save_screenshot(str(shots / "users.png"))
    params = sync_params([lead_record("rotated@example.com")])
    old = envelope("syncMultipleLeads", params, "rotating-user", "old-key-1234")
    assert fault(server.post(old)).code == 20014
    new = envelope("syncMultipleLeads", params, "rotating-user", new_key)
    assert server.post(new).status_code == 200


def test_a_script_in_a_lead_shows_as_text_and_runs_nothing(
    browser: WebDriver, server: Server
) -> None:
    attrs = {"FirstName": XSS_NAME, "Company": XSS_COMPANY}
    _sync(server, lead_record("xss@example.com", attrs))
    _sign_in(browser, server)
    browser.get(server.base_url + "/console/leads?email=xss%40")
    assert XSS_COMPANY in browser.find_element(By.CSS_SELECTOR, "tbody").text
    _click(browser, browser.find_element(By.CSS_SELECTOR, "tbody a"))
    fields = browser.find_element(By.CSS_SELECTOR, "table.fields").text
    assert XSS_NAME in fields
    assert XSS_COMPANY in fields
    assert browser.title != "pwned"
    assert "pwned" not in browser.execute_script("return document.title")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img") == []


def test_a_post_without_the_csrf_token_is_refused(browser: WebDriver, server: Server) -> None:
    _sign_in(browser, server)
    browser.get(server.base_url + "/console/faults")
    before = browser.find_element(By.TAG_NAME, "table").text
    browser.find_element(By.CSS_SELECTOR, "main > form.inline input[name=rule]").send_keys(
        "code=20011"
    )
    # What a forged form from another site would send: everything but the token.
    browser.execute_script("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    _click(browser, browser.find_element(By.CSS_SELECTOR, "main > form.inline button"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Refused"
    assert "CSRF" in browser.find_element(By.CSS_SELECTOR, ".error").text
    browser.get(server.base_url + "/console/faults")
    assert browser.find_element(By.TAG_NAME, "table").text == before


def test_the_console_without_users_says_how_to_turn_it_on(
    browser: WebDriver, tmp_path: Path, shots: Path
) -> None:
    with running_server(tmp_path) as bare:
        browser.get(bare.base_url + "/console")
        assert "leadsync console add-user NAME" in browser.find_element(By.TAG_NAME, "main").text
        browser.save_screenshot(str(shots / "off.png"))


def test_a_bulk_import_on_the_jobs_page(browser: WebDriver, server: Server, shots: Path) -> None:
    store = open_store(server.database_url)
    try:
        create_service(store, "browser", datetime.now(UTC), "browser-client", "browser-secret-0123")
    finally:
        store.close()
    http = server.http
    token = http.get(
        server.base_url + "/identity/oauth/token",
        params={
            "grant_type": "client_credentials",
            "client_id": "browser-client",
            "client_secret": "browser-secret-0123",
        },
    ).json()["access_token"]
    rows = b"email,firstName,company\nada@example.com,Ada,Analytical\nnot-an-email,Bad,Row\n"
    answer = http.post(
        server.base_url + "/bulk/v1/leads.json",
        params={"format": "csv"},
        files={"file": ("leads.csv", rows, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    batch = answer["result"][0]["batchId"]
    _sign_in(browser, server)
    _click(browser, browser.find_element(By.LINK_TEXT, "Jobs"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Jobs"
    # The server's job runner takes the import in the background.
    WebDriverWait(browser, 30, poll_frequency=0.3).until(
        lambda driver: (
            driver.get(server.base_url + "/console/jobs")
            or "completed" in driver.find_element(By.CSS_SELECTOR, "table.jobs tbody").text
        )
    )
    row = browser.find_element(By.CSS_SELECTOR, "table.jobs tbody tr").text
    assert str(batch) in row
    assert "1 imported, 1 failed, 0 warnings" in row
    browser.save_screenshot(str(shots / "jobs.png"))
    _click(browser, browser.find_element(By.LINK_TEXT, str(batch)))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Job {batch}"
    assert "1 failed" in browser.find_element(By.CSS_SELECTOR, "dd.message").text
    browser.save_screenshot(str(shots / "job.png"))


def test_the_bridge_page(browser: WebDriver, tmp_path: Path, shots: Path) -> None:
    upstream = start_server(tmp_path / "upstream")
    try:
        flags = [
            *("--upstream", upstream.base_url),
            *("--upstream-client-id", upstream.client_id),
            *("--upstream-client-secret", upstream.client_secret),
            *("--upstream-wait", "5"),
        ]
        with running_server(tmp_path, *flags) as bridge:
            added = run_cli(
                "console",
                "add-user",
                NAME,
                "--password",
                PASSWORD,
                "--database",
                bridge.database_url,
            )
            assert added.returncode == 0, added.stderr
            _sync(bridge, lead_record("bridged@example.com", {"FirstName": "Bridged"}))
            missing = "<leadKey><keyType>IDNUM</keyType><keyValue>987654</keyValue></leadKey>"
            assert fault(bridge.call("getLead", missing)).code
            _sign_in(browser, bridge)
            _click(browser, browser.find_element(By.LINK_TEXT, "Bridge"))
            main = browser.find_element(By.TAG_NAME, "main").text
            assert upstream.base_url in main
            assert upstream.client_secret not in browser.page_source
            assert "valid for" in browser.find_element(By.CSS_SELECTOR, "dd.token").text
            journal = browser.find_element(By.CSS_SELECTOR, "table.journal tbody").text
            assert "syncMultipleLeads" in journal
            assert "getLead" in journal
            browser.save_screenshot(str(shots / "bridge.png"))
            browser.find_element(By.NAME, "failed").click()
            _click(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
            journal = browser.find_element(By.CSS_SELECTOR, "table.journal tbody").text
            assert "getLead" in journal
            assert "syncMultipleLeads" not in journal
    finally:
        upstream.stop()
