"""Bulk lead import: the request, the job, its status, failures and warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from bulkapp import OWNER, Bulk

from leadsync.jobs.context import JobContext, JobStopped
from leadsync.jobs.kinds import QUEUES
from leadsync.model import FieldDef, FieldType
from leadsync.operations.bulk_import import run_import
from leadsync.operations.fields import FieldCatalogue
from leadsync.store.base import ActivityQuery, LeadQuery, LeadWriter


def leads_by_email(bulk: Bulk) -> dict[str, int]:
    with bulk.rest.store.read() as reader:
        leads = reader.leads_page(LeadQuery(), 1000)
    return {lead.email or "": lead.id for lead in leads}


def test_an_import_creates_and_updates_leads(bulk: Bulk) -> None:
    batch = bulk.import_ok(b"email,firstName,lastName\na@x.com,Ann,Lee\nb@x.com,Bob,Ray\n")
    status = bulk.status(batch)
    assert status["status"] == "Queued"
    assert bulk.run() == 1
    status = bulk.status(batch)
    assert status == {
        "batchId": batch,
        "importId": str(batch),
        "status": "Complete",
        "numOfLeadsProcessed": 2,
        "numOfRowsFailed": 0,
        "numOfRowsWithWarning": 0,
        "message": "Import succeeded, 2 records imported (2 members)",
    }
    assert set(leads_by_email(bulk)) == {"a@x.com", "b@x.com"}
    again = bulk.import_ok(b"email,lastName\na@x.com,Lim\n")
    bulk.run()
    assert bulk.status(again)["numOfLeadsProcessed"] == 1
    lead_id = leads_by_email(bulk)["a@x.com"]
    with bulk.rest.store.read() as reader:
        lead = reader.leads_by_ids([lead_id])
    assert [one.values.get("LastName") for one in lead.values()] == ["Lim"]
    assert bulk.failures(again) == b"email,lastName,Import Failure Reason\n"


def test_bad_rows_land_in_the_failures_file_byte_for_byte(bulk: Bulk) -> None:
    bulk.rest.store.add_custom_field(
        FieldDef("Score2", FieldType.INTEGER, custom=True, rest_name="score2")
    )
    rows = [
        b"email,firstName,score2,shoeSize",
        b"ok@x.com,Ok,1,",
        b"not-an-email,Bad,2,",
        b"typed@x.com,Typed,twelve,",
        b",NoKey,3,",
        b'quoted@x.com,"Line one\r\nline two, ""quoted""",4,',
        "jos\u00e9@x.com,Jos\u00e9 \u00c5se \u4e2d,5,".encode(),
        b"extra@x.com,Extra,6,44",
        b"short@x.com,Short",
    ]
    batch = bulk.import_ok(b"\r\n".join(rows) + b"\r\n")
    bulk.run()
    status = bulk.status(batch)
    failures = bulk.failures(batch).split(b"\n")
    assert failures[0] == b"email,firstName,score2,shoeSize,Import Failure Reason"
    failed_rows = {line.rsplit(b",", 1)[0] for line in failures[1:] if line}
    imported = leads_by_email(bulk)
    for row in rows[1:]:
        email = row.split(b",", 1)[0].decode()
        in_db = email in imported
        assert in_db != (row in failed_rows), row
    assert status["numOfRowsFailed"] == len(failed_rows)
    assert status["numOfLeadsProcessed"] == len(imported)
    assert "quoted@x.com" in imported
    assert "jos\u00e9@x.com" in imported
    assert rows[3] in failed_rows  # twelve in an integer field
    assert rows[4] in failed_rows  # no email: the lookup field's value is missing
    assert rows[8] in failed_rows  # too few fields
    assert status["numOfRowsWithWarning"] == 1
    warnings = bulk.warnings(batch)
    assert warnings.split(b"\n")[1].startswith(rows[7] + b",")
    catalogue = FieldCatalogue(bulk.rest.store.custom_fields())
    assert catalogue.by_rest_name("score2") is not None


def csv_of(count: int, start: int = 0) -> bytes:
    rows = [f"r{i}@x.com,Name{i}" for i in range(start, start + count)]
    return ("email,firstName\n" + "\n".join(rows) + "\n").encode()


def test_parameters_may_come_as_multipart_fields(bulk: Bulk) -> None:
    bulk.rest.store.add_static_list("Imported")
    list_id = bulk.rest.store.static_lists()[0].id
    answer = bulk.rest.post(
        "/bulk/v1/leads.json",
        data={"format": "tsv", "listId": str(list_id), "lookupField": "email"},
        files={"file": ("leads.tsv", b"email\tfirstName\nt@x.com\tTab\n", "text/plain")},
    )
    batch = bulk.rest.ok(answer)["result"][0]["batchId"]
    bulk.run()
    status = bulk.status(batch)
    assert status["message"] == "Import succeeded, 1 records imported (1 members)"
    assert [one.members for one in bulk.rest.store.static_lists()] == [1]
    with bulk.rest.store.read() as reader:
        added = reader.activities(ActivityQuery(types=frozenset({"AddToList"})), 10)
    assert len(added) == 1


def test_request_errors(bulk: Bulk) -> None:
    rest = bulk.rest
    assert rest.error(bulk.upload(b"email\nx@x.com\n", format="xml")) == "1001"
    assert rest.error(bulk.upload(b"email\nx@x.com\n", format="")) == "701"
    assert rest.error(bulk.upload(b"email\nx@x.com\n", lookupField="shoeSize")) == "1011"
    assert rest.error(bulk.upload(b"email\nx@x.com\n", listId="999")) == "1013"
    assert rest.error(bulk.upload(b"")) == "1003"
    assert rest.error(bulk.upload(b"email,email\nx@x.com,y@x.com\n")) == "1003"
    not_multipart = rest.post("/bulk/v1/leads.json", params={"format": "csv"}, content=b"x")
    assert rest.error(not_multipart) == "613"
    assert rest.error(rest.get("/bulk/v1/leads/batch/12345.json")) == "1013"
    assert bulk.rest.store.jobs().jobs() == []


def test_a_file_over_10_mb_is_413(bulk: Bulk) -> None:
    big = b"email\n" + b"x" * (10 * 1024 * 1024)
    assert bulk.upload(big).status_code == 413
    assert bulk.upload(big + b"x" * 100 * 1024).status_code == 413


def test_two_import_and_ten_wait_then_1016(bulk: Bulk) -> None:
    ids = [bulk.import_ok(csv_of(1, i)) for i in range(10)]
    assert bulk.rest.error(bulk.upload(csv_of(1, 99))) == "1016"
    jobs = bulk.rest.store.jobs()
    now = bulk.rest.clock.now()
    later = now + timedelta(minutes=5)
    claimed = [jobs.claim(QUEUES, f"owner{i}", now, later) for i in range(3)]
    assert [job.id if job else None for job in claimed] == [ids[0], ids[1], None]
    assert [bulk.status(i)["status"] for i in ids[:3]] == ["Importing", "Importing", "Queued"]
    assert bulk.rest.error(bulk.upload(csv_of(1, 99))) == "1016"


class Died(Exception):
    """The process running the job is gone (as by kill -9): nothing after this runs."""


@dataclass(slots=True)
class Dying(JobContext):
    saves_left: int = 0

    def save_state(self, tx: LeadWriter, state: dict[str, Any]) -> None:
        if self.saves_left == 0:
            raise Died()
        self.saves_left -= 1
        JobContext.save_state(self, tx, state)


def test_an_import_resumed_after_its_process_died_imports_no_row_twice(bulk: Bulk) -> None:
    store, clock = bulk.rest.store, bulk.rest.clock
    batch = bulk.import_ok(csv_of(10) + b"bad,Row\n")
    now = clock.now()
    job = store.jobs().claim(QUEUES, "gone|x|1|1", now, now + timedelta(seconds=60))
    assert job is not None
    dying = Dying(job, store, bulk.files, clock, "gone|x|1|1", timedelta(seconds=60))
    dying.saves_left = 2
    with pytest.raises(Died):
        run_import(dying, chunk_rows=4)
    status = bulk.status(batch)
    assert (status["status"], status["numOfLeadsProcessed"]) == ("Importing", 8)
    assert bulk.run() == 0  # its lease holds: nobody takes it over yet
    clock.advance(seconds=61)
    assert bulk.run() == 1
    status = bulk.status(batch)
    assert status["status"] == "Complete"
    assert (status["numOfLeadsProcessed"], status["numOfRowsFailed"]) == (10, 1)
    assert len(leads_by_email(bulk)) == 10
    with store.read() as reader:
        assert reader.count_activities(ActivityQuery(types=frozenset({"NewLead"}))) == 10
    assert bulk.failures(batch) == (
        b"email,firstName,Import Failure Reason\n"
        b"bad,Row,Invalid value for field 'email' and value 'bad'\n"
    )


def test_a_job_whose_runner_keeps_dying_ends_failed(bulk: Bulk) -> None:
    store, clock = bulk.rest.store, bulk.rest.clock
    batch = bulk.import_ok(csv_of(2))
    for _ in range(3):
        now = clock.now()
        assert store.jobs().claim(QUEUES, "gone|x|1|1", now, now + timedelta(seconds=1))
        clock.advance(seconds=2)
        bulk.runner.reap()
    status = bulk.status(batch)
    assert status["status"] == "Failed"
    assert "stopped 3 times" in status["message"]


def test_jobs_past_seven_days_are_forgotten_with_their_files(bulk: Bulk) -> None:
    batch = bulk.import_ok(b"email\nbad\n")
    bulk.run()
    assert bulk.files.folder(batch).exists()
    bulk.rest.clock.advance(timedelta(days=6))
    assert bulk.runner.purge() == 0
    bulk.rest.clock.advance(timedelta(days=2))
    assert bulk.runner.purge() == 1
    assert not bulk.files.folder(batch).exists()
    assert list((bulk.files.root / "uploads").iterdir()) == []
    assert bulk.rest.store.jobs().get(batch) is None


def test_a_stopping_server_puts_its_import_back_in_the_queue(bulk: Bulk) -> None:
    store, clock = bulk.rest.store, bulk.rest.clock
    batch = bulk.import_ok(csv_of(10))
    now = clock.now()
    job = store.jobs().claim(QUEUES, OWNER, now, now + timedelta(seconds=60))
    assert job is not None
    saves: list[int] = []

    def stopping() -> bool:
        saves.append(1)
        return len(saves) > 2

    context = JobContext(job, store, bulk.files, clock, OWNER, timedelta(seconds=60), stopping)
    with pytest.raises(JobStopped):
        run_import(context, chunk_rows=4)
    store.jobs().requeue(batch, OWNER, clock.now(), max_attempts=3, message="", count_attempt=False)
    assert bulk.status(batch)["status"] == "Queued"
    assert bulk.run() == 1
    status = bulk.status(batch)
    assert (status["status"], status["numOfLeadsProcessed"]) == ("Complete", 10)
    again = store.jobs().get(batch)
    assert again is not None
    assert again.attempts == 1


def test_a_job_its_own_runner_gave_up_on_is_taken_back(bulk: Bulk) -> None:
    store, clock = bulk.rest.store, bulk.rest.clock
    batch = bulk.import_ok(csv_of(3))
    now = clock.now()
    # Claimed under this runner's own name, but no thread of it works on the job.
    assert store.jobs().claim(QUEUES, OWNER, now, now + timedelta(minutes=5))
    assert bulk.runner.reap() == 1
    assert bulk.run() == 1
    assert bulk.status(batch)["status"] == "Complete"


def test_a_partition_given_as_a_multipart_field_is_the_sync_rules(bulk: Bulk) -> None:
    answer = bulk.rest.post(
        "/bulk/v1/leads.json",
        data={"format": "csv", "partitionName": "Europe"},
        files={"file": ("leads.csv", b"email\np@x.com\n", "text/csv")},
    )
    batch = bulk.rest.ok(answer)["result"][0]["batchId"]
    bulk.run()
    assert bulk.status(batch)["numOfRowsFailed"] == 1
    assert bulk.failures(batch) == (
        b"email,Import Failure Reason\np@x.com,Access denied to partition 'Europe'\n"
    )
