"""Fault rules on bulk jobs: a job made to fail, or held in Queued, on purpose."""

from __future__ import annotations

import threading

from bulkapp import OWNER, Bulk

from leadsync.config import Settings
from leadsync.jobs.runner import JobRunner
from leadsync.jobs.work import job_work
from leadsync.limits.faults import parse_rule
from leadsync.rest.routes import rest_operations


def runner_with_faults(bulk: Bulk) -> JobRunner:
    store = bulk.rest.store
    return JobRunner(
        store,
        bulk.files,
        job_work(Settings()),
        clock=bulk.rest.clock,
        owner=OWNER,
        faults=store.faults(),
    )


def test_job_operations_are_fault_rule_operations() -> None:
    assert {"importLeadJob", "exportLeadsJob", "exportActivitiesJob"} <= set(rest_operations())


def test_a_rule_with_a_code_fails_the_job(bulk: Bulk) -> None:
    bulk.rest.store.faults().add([parse_rule("op=importLeadJob,code=1003,times=1")])
    runner = runner_with_faults(bulk)
    failed = bulk.import_ok(b"email\na@x.com\n")
    runner.run_pending()
    status = bulk.status(failed)
    assert status["status"] == "Failed"
    assert "fault rule code 1003" in status["message"]
    fine = bulk.import_ok(b"email\na@x.com\n")
    runner.run_pending()
    assert bulk.status(fine)["status"] == "Complete"


def test_a_rule_with_a_delay_holds_the_job_in_queued(bulk: Bulk) -> None:
    bulk.rest.store.faults().add([parse_rule("op=importLeadJob,delay=300ms")])
    runner = runner_with_faults(bulk)
    batch = bulk.import_ok(b"email\na@x.com\n")
    seen: list[str] = []
    thread = threading.Thread(target=runner.run_pending)
    thread.start()
    while thread.is_alive():
        job = bulk.rest.store.jobs().get(batch)
        assert job is not None
        seen.append(f"{job.status}:{bulk.status(batch)['status']}")
    thread.join()
    # Claimed but held by the rule: the client sees it Queued for the rule's delay.
    assert "running:Queued" in seen
    assert bulk.status(batch)["status"] == "Complete"
