"""The Jobs and Bridge pages in-process, on every backend."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bulk.bulkapp import bulk_on
from leadsync.app import create_app
from leadsync.bridge.budget import Budget
from leadsync.clock import SYSTEM_CLOCK
from leadsync.config import Settings
from leadsync.console.passwords import hash_password
from leadsync.jobs.kinds import IMPORT, IMPORT_QUEUE, LEADS_EXPORT
from leadsync.store.base import Store
from leadsync.store.bridge import JournalEntry, UpstreamToken
from leadsync.store.jobs import CANCELED, FAILED
from support import DEMO_KEY, DEMO_USER, envelope

PASSWORD = "correct horse battery"
XSS = '<script>document.title="pwned"</script>'
SECRET = "upstream-client-secret-never-shown"
TOKEN = "upstream-access-token-never-shown"
BRIDGE = {
    "upstream_url": "http://127.0.0.1:9/",
    "upstream_client_id": "bridge-client",
    "upstream_client_secret": SECRET,
}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def console(store: Store) -> Iterator[TestClient]:
    yield from _console(store, Settings(bulk_threads=0))


def _console(store: Store, settings: Settings) -> Iterator[TestClient]:
    """Signed in to the console of an app that runs no bulk jobs itself: tests run them."""
    if store.console().user("alice") is None:
        store.console().add_user("alice", hash_password(PASSWORD), 0)
    with TestClient(create_app(settings, store), follow_redirects=False) as tc:
        token = _csrf(tc.get("/console/login").text)
        form = {"csrf": token, "name": "alice", "password": PASSWORD}
        assert tc.post("/console/login", data=form).status_code == 303
        yield tc


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr>")[1:]
    ]


def test_jobs_page_shows_an_import_made_over_rest(
    console: TestClient, store: Store, tmp_path: Path
) -> None:
    for bulk in bulk_on(store, tmp_path / "jobs"):
        batch = bulk.import_ok(b"email,firstName\na@x.com,Ann\nnot-an-email,Bad\n")
        queued = console.get("/console/jobs")
        assert queued.status_code == 200
        [row] = _rows(queued.text)
        assert f"{batch} Lead import REST bulk import queued Queued" in row
        assert bulk.run() == 1
    done = console.get("/console/jobs")
    [row] = _rows(done.text)
    assert "completed Complete 1 imported, 1 failed, 0 warnings" in row
    assert "Jobs" in done.text.split("<nav>", 1)[1].split("</nav>", 1)[0]
    job = console.get(f"/console/jobs/{batch}")
    assert job.status_code == 200
    assert "Import completed with errors, 1 records imported (1 members), 1 failed" in job.text
    assert "Cancel job" not in job.text
    assert console.get("/console/jobs/999999").status_code == 404
    assert console.get("/console/jobs/" + "9" * 30).status_code == 404


def test_jobs_filter_by_kind_and_status_and_page_newest_first(
    console: TestClient, store: Store
) -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    jobs = store.jobs()
    made = [
        jobs.create(LEADS_EXPORT, {"format": "CSV"}, now, public_id=f"e-{n}") for n in range(55)
    ]
    imported = jobs.create(IMPORT, {"format": "csv", "bytes": 10}, now, queue=IMPORT_QUEUE)
    assert imported is not None
    assert all(made)
    jobs.cancel(made[0].id, now, "Canceled")  # type: ignore[union-attr]
    first = _rows(console.get("/console/jobs").text)
    assert len(first) == 50
    assert first[0].startswith(f"{imported.id} Lead import")
    assert first[1].startswith("e-54 Lead extract REST bulk extract created Created")
    older = re.search(
        r'href="/console/jobs(\?before=\d+)" rel="next"', console.get("/console/jobs").text
    )
    assert older
    rest = _rows(console.get("/console/jobs" + older.group(1).replace("&amp;", "&")).text)
    assert [r.split()[0] for r in rest] == [f"e-{n}" for n in range(5, -1, -1)]
    assert [r.split()[0] for r in _rows(console.get("/console/jobs?kind=import").text)] == [
        str(imported.id)
    ]
    canceled = _rows(console.get("/console/jobs?status=canceled&kind=leads_export").text)
    assert [r.split()[0] for r in canceled] == ["e-0"]
    assert console.get("/console/jobs?before=" + "9" * 40).status_code == 200
    assert _rows(console.get("/console/jobs?before=99999999999999999").text)[0].startswith(
        str(imported.id)
    )
    bad = console.get("/console/jobs?status=nonsense&before=x")
    assert "No job status" in bad.text
    assert "page must be a whole number" in bad.text


def test_a_job_is_canceled_with_the_csrf_token_only(console: TestClient, store: Store) -> None:
    now = datetime.now(UTC)
    job = store.jobs().create(IMPORT, {"format": "csv", "bytes": 10}, now, queue=IMPORT_QUEUE)
    assert job is not None
    page = console.get(f"/console/jobs/{job.id}")
    assert "Cancel job" in page.text
    for form in ({"action": "cancel"}, {"action": "cancel", "csrf": "forged"}):
        refused = console.post(f"/console/jobs/{job.id}", data=form)
        assert refused.status_code == 403
    assert store.jobs().get(job.id).status != CANCELED  # type: ignore[union-attr]
    form = {"action": "cancel", "csrf": _csrf(page.text)}
    done = console.post(f"/console/jobs/{job.id}", data=form)
    assert done.status_code == 303
    after = store.jobs().get(job.id)
    assert after is not None
    assert (after.status, after.message) == (CANCELED, "Import canceled")
    shown = console.get(done.headers["location"])
    assert f"Job {job.id} canceled." in shown.text
    assert "Cancel job" not in shown.text
    again = console.post(f"/console/jobs/{job.id}", data=form)
    assert "has ended already" in console.get(again.headers["location"]).text


def test_a_failure_message_shows_as_text(console: TestClient, store: Store) -> None:
    now = datetime.now(UTC)
    job = store.jobs().create(LEADS_EXPORT, {"format": "CSV"}, now, public_id="x-1")
    assert job is not None
    from leadsync.jobs.kinds import EXPORT_QUEUE

    store.jobs().enqueue(job.id, EXPORT_QUEUE, now)
    claimed = store.jobs().claim([EXPORT_QUEUE], "host|1", now, now + timedelta(minutes=1))
    assert claimed is not None
    assert store.jobs().finish(job.id, "host|1", FAILED, now, message=XSS)
    page = console.get(f"/console/jobs/{job.id}").text
    assert XSS not in page
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in page


def test_the_bridge_page_is_hidden_outside_bridge_mode(console: TestClient) -> None:
    page = console.get("/console/")
    assert "/console/bridge" not in page.text
    missing = console.get("/console/bridge")
    assert missing.status_code == 404
    assert "not in bridge mode" in missing.text


def test_the_bridge_page_shows_the_upstream_its_budget_and_journal(store: Store) -> None:
    settings = Settings(
        **BRIDGE, upstream_daily_quota=500, upstream_rate_limit="100/20s", bulk_threads=0
    )
    now_ms = int(time.time() * 1000)
    bridge = store.bridge()
    bridge.save_token("http://127.0.0.1:9 bridge-client", UpstreamToken(TOKEN, now_ms + 3_600_000))
    bridge.add_journal(
        JournalEntry(now_ms - 2000, "soap-user", "syncLead", 12.5, 1, created=1, request_ids="r1")
    )
    bridge.add_journal(
        JournalEntry(
            now_ms - 1000,
            "soap-user",
            "syncMultipleLeads",
            40.0,
            records=3,
            updated=2,
            failed=1,
            upstream_codes="1003",
        )
    )
    bridge.add_journal(JournalEntry(now_ms, XSS, "getLead", 3.0, fault_code=20011, error_id="e1"))
    budget = Budget(store, settings, SYSTEM_CLOCK)
    slot = budget.take(SYSTEM_CLOCK.monotonic() + 5)
    for console in _console(store, settings):
        page = console.get("/console/bridge")
        assert page.status_code == 200
        assert 'href="/console/bridge"' in page.text
        assert "http://127.0.0.1:9/" in page.text
        assert SECRET not in page.text
        assert TOKEN not in page.text
        assert "valid for 59 min" in page.text or "valid for 60 min" in page.text
        figures = re.sub(r"<[^>]+>", "", page.text.split('class="figures budget"')[1])
        assert "0 / 500 calls today" in figures
        assert "1 / 10 in flight" in figures
        budget.give_back(slot)
        figures = re.sub(r"<[^>]+>", "", console.get("/console/bridge").text)
        assert "1 / 500 calls today" in figures
        assert "1 / 100 in the rate window (100/20s)" in figures
        rows = _rows(page.text)
        assert [r.split()[3] for r in rows] == ["getLead", "syncMultipleLeads", "syncLead"]
        assert "3 0 2 1 1003 40" in rows[1]
        assert "20011" in rows[0]
        assert "e1" in rows[0]
        assert XSS not in page.text
        failed = _rows(console.get("/console/bridge?failed=1").text)
        assert [r.split()[3] for r in failed] == ["getLead", "syncMultipleLeads"]


def test_jobs_deleted_after_their_week_leave_the_page_to_the_rest(
    console: TestClient, store: Store
) -> None:
    jobs = store.jobs()
    old = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(130):
        job = jobs.create(LEADS_EXPORT, {"format": "CSV"}, old + timedelta(minutes=n))
        assert job is not None
        jobs.cancel(job.id, old, "Canceled")
    assert _rows(console.get("/console/jobs").text)[0].startswith("130 ")
    jobs.delete_finished(old + timedelta(minutes=120))
    kept = [row.split()[0] for row in _rows(console.get("/console/jobs").text)]
    assert kept == [str(n) for n in range(130, 120, -1)]
    jobs.delete_finished(old + timedelta(days=1))
    assert "No jobs" in console.get("/console/jobs").text


def test_a_soap_import_to_list_is_a_job_on_the_page(store: Store, tmp_path: Path) -> None:
    store.add_user(DEMO_USER, DEMO_KEY)
    store.add_static_list("Imported <list>")
    params = (
        "<programName>Prog</programName><importFileHeader>Email,FirstName</importFileHeader>"
        "<importFileRows><stringItem>a@x.com,Ann</stringItem></importFileRows>"
        "<importListMode>UPSERTLEADS</importListMode><listName>Imported &lt;list&gt;</listName>"
        "<clearList>false</clearList>"
    )
    for console in _console(store, Settings(bulk_threads=0, bulk_dir=str(tmp_path))):
        answer = console.post("/soap/mktows/2_2", content=envelope("importToList", params))
        assert answer.status_code == 200, answer.text
        [row] = _rows(console.get("/console/jobs?kind=import").text)
        assert "Lead import SOAP importToList into Imported &lt;list&gt; (Prog) queued" in row
