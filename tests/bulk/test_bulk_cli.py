"""``leadsync jobs list|show|cancel`` end to end, on a database with jobs in it."""

from __future__ import annotations

from pathlib import Path

from bulkapp import Bulk, bulk_on

from leadsync.store import open_store
from support import cli


def test_list_show_and_cancel(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'leadsync.db'}"
    store = open_store(url)
    try:
        for bulk in bulk_on(store, tmp_path / "jobs"):
            done = bulk.import_ok(b"email\na@x.com\nbad\n")
            bulk.run()
            waiting = bulk.import_ok(b"email\nb@x.com\n")
            exported = _leads_export(bulk)
    finally:
        store.close()
    listed = cli("jobs", "list", "--database", url)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [line[:4] for line in lines] == [
        [str(done), "import", "Complete", "1 imported, 1 failed, 0 warned"],
        [str(waiting), "import", "Queued", "0 imported, 0 failed, 0 warned"],
        [exported, "leads_export", "Created", "0 records"],
    ]
    queued = cli("jobs", "list", "--status", "queued", "--kind", "import", "--database", url)
    assert [line.split("\t")[0] for line in queued.stdout.splitlines()] == [str(waiting)]
    shown = cli("jobs", "show", str(done), "--database", url)
    assert "status: Complete\n" in shown.stdout
    assert "message: Import completed with errors, 1 records imported (1 members), 1 failed\n" in (
        shown.stdout
    )
    canceled = cli("jobs", "cancel", str(waiting), "--database", url)
    assert canceled.stdout == f"canceled job {waiting}\n"
    assert "status: Failed\n" in cli("jobs", "show", str(waiting), "--database", url).stdout
    assert cli("jobs", "cancel", exported, "--database", url).returncode == 0
    assert "status: Canceled\n" in cli("jobs", "show", exported, "--database", url).stdout
    again = cli("jobs", "cancel", str(done), "--database", url)
    assert (again.returncode, again.stderr) == (1, f"Error: job {done} is Complete already\n")
    missing = cli("jobs", "show", "424242", "--database", url)
    assert (missing.returncode, missing.stderr) == (1, "Error: no bulk job 424242\n")


def _leads_export(bulk: Bulk) -> str:
    body = {"fields": ["email"], "filter": {"staticListName": "nothing"}}
    bulk.rest.store.add_static_list("nothing")
    answer = bulk.rest.ok(bulk.rest.post("/bulk/v1/leads/export/create.json", json=body))
    export_id: str = answer["result"][0]["exportId"]
    return export_id
