"""Leads survive a restart and a kill -9 right after a response; concurrent dedupe."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from support import (
    Server,
    count_leads,
    lead_record,
    running_server,
    statuses,
    stored_leads,
    sync_params,
)


def test_leads_survive_kill_9_right_after_the_response(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'durable.db'}"
    records = [lead_record(f"durable{i}@x.com", {"LeadScore": str(i)}) for i in range(50)]
    with running_server(tmp_path, database_url=db) as srv:
        got = statuses(srv.call("syncMultipleLeads", sync_params(records)))
        srv.process.send_signal(signal.SIGKILL)
        srv.process.wait()
    ids = [s.lead_id for s in got]
    leads = stored_leads(db, ids)
    assert sorted(leads) == sorted(ids)
    assert [leads[i].values["LeadScore"] for i in ids] == list(range(50))
    # Restarted, the same records update the same ids.
    with running_server(tmp_path, database_url=db, users=()) as srv:
        again = statuses(srv.call("syncMultipleLeads", sync_params(records)))
    assert [s.lead_id for s in again] == ids
    assert {s.status for s in again} == {"UPDATED"}


def test_concurrent_calls_deduping_the_same_new_email_create_one_lead(fresh_server: Server) -> None:
    def call(i: int) -> list[int]:
        records = [lead_record("race@x.com", {"LeadScore": str(i)}), lead_record(f"solo{i}@x.com")]
        return [
            s.lead_id
            for s in statuses(fresh_server.call("syncMultipleLeads", sync_params(records)))
        ]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(32)))
    assert len({r[0] for r in results}) == 1
    assert count_leads(fresh_server.database_url) == 1 + 32


def test_one_log_line_per_call(fresh_server: Server) -> None:
    records = [lead_record("log1@x.com"), lead_record("log1@x.com"), lead_record(None, id=424242)]
    statuses(fresh_server.call("syncMultipleLeads", sync_params(records)))
    [line] = [ln for ln in fresh_server.log().splitlines() if "op=syncMultipleLeads" in ln]
    assert f"user={fresh_server.user_id}" in line
    assert "records=3 created=1 updated=1 failed=1 ms=" in line
