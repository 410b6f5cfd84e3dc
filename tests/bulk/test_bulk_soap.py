"""SOAP importToList and getImportToListStatus, on the bulk import job machinery."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import BACKENDS
from inprocess import AppServer, app_on
from leadsync.jobs.files import JobFiles, bulk_root
from leadsync.jobs.runner import JobRunner
from leadsync.jobs.work import job_work
from leadsync.mktows.escaping import esc
from leadsync.store.base import LeadQuery
from support import fault


@pytest.fixture(params=BACKENDS)
def fresh_app_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppServer]:
    """The app on an empty database, its job files in the test's folder."""
    with app_on(request, request.param, tmp_path, bulk_dir=str(tmp_path / "jobs")) as app:
        yield app


def import_to_list(
    server: AppServer,
    header: str,
    rows: list[str],
    *,
    list_name: str = "Imported",
    mode: str = "UPSERTLEADS",
    clear: bool = False,
) -> str:
    items = "".join(f"<stringItem>{esc(row)}</stringItem>" for row in rows)
    params = (
        f"<programName>Prog</programName><importFileHeader>{esc(header)}</importFileHeader>"
        f"<importFileRows>{items}</importFileRows><importListMode>{mode}</importListMode>"
        f"<listName>{list_name}</listName><clearList>{str(clear).lower()}</clearList>"
        '<campaignName xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    )
    answer = server.call("importToList", params)
    assert answer.status_code == 200, answer.text
    return answer.text


def status(server: AppServer) -> dict[str, str]:
    answer = server.call(
        "getImportToListStatus", "<programName>Prog</programName><listName>imported</listName>"
    )
    assert answer.status_code == 200, answer.text
    return dict(re.findall(r"<(\w+)>([^<]*)</\1>", answer.text.split("<result>", 1)[1]))


def runner(server: AppServer) -> JobRunner:
    files = JobFiles(bulk_root(server.settings))
    return JobRunner(server.store, files, job_work(server.settings), owner="tests|x|1|1")


def members(server: AppServer) -> dict[str, str]:
    [found] = server.store.static_lists()
    with server.store.read() as reader:
        leads = reader.leads_page(LeadQuery(list_id=found.id), 100)
    return {lead.email or "": str(lead.values.get("FirstName")) for lead in leads}


def test_import_to_list_upserts_then_list_only_adds(fresh_app_server: AppServer) -> None:
    server = fresh_app_server
    server.store.add_static_list("Imported")
    body = import_to_list(server, "Email,FirstName", ["a@x.com,Ann", "bad,Bad", "b@x.com,Bo"])
    assert "<importStatus>PROCESSING</importStatus>" in body
    assert status(server)["status"] == "PROCESSING"
    runner(server).run_pending()
    done = status(server)
    assert (done["status"], done["rowsImported"], done["rowsFailed"]) == ("COMPLETE", "2", "1")
    assert members(server) == {"a@x.com": "Ann", "b@x.com": "Bo"}
    import_to_list(
        server, "Email,FirstName", ["a@x.com,Changed", "new@x.com,New"], mode="LISTONLY",
        clear=True,
    )  # fmt: skip
    runner(server).run_pending()
    done = status(server)
    assert (done["rowsImported"], done["rowsFailed"]) == ("1", "1")
    # Cleared first, then only the existing lead added back, its fields untouched.
    assert members(server) == {"a@x.com": "Ann"}


def test_faults(fresh_app_server: AppServer) -> None:
    server = fresh_app_server
    unknown = server.call(
        "importToList",
        "<programName>P</programName><importFileHeader>Email</importFileHeader>"
        "<importFileRows/><importListMode>UPSERTLEADS</importListMode>"
        "<listName>Nope</listName><clearList>false</clearList>",
    )
    assert fault(unknown).code == 20111
    never = server.call(
        "getImportToListStatus", "<programName>P</programName><listName>Nope</listName>"
    )
    assert fault(never).code == 20111
    server.store.add_static_list("Imported")
    bad_mode = server.call(
        "importToList",
        "<programName>P</programName><importFileHeader>Email</importFileHeader>"
        "<importFileRows/><importListMode>MERGE</importListMode>"
        "<listName>Imported</listName><clearList>false</clearList>",
    )
    assert fault(bad_mode).code == 20110
