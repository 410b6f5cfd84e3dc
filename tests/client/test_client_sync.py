"""The client against a real leadsync process: order, splitting, fatal errors, isolation."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from client.faultproxy import FaultProxy
from client.helpers import emails_in_db, fast_client, leads
from leadsync.client import (
    Client,
    EndpointUnreachable,
    LastUpdateAtSelector,
    Lead,
    LeadKeySelector,
    MktowsFault,
    ProtocolError,
    SyncAborted,
    SyncStatus,
)
from support import Server, free_port


def test_results_come_back_one_per_record_in_input_order(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    records: list[object] = [*leads(prefix, 450)]
    records.insert(5, {"FirstName": "no key"})
    records.insert(300, {"Email": f"{prefix}-bad@example.com", "LeadScore": "not a number"})
    records.insert(400, Lead(email=f"{prefix}-typed@example.com", attributes={"City": "Lyon"}))
    records.append({"Id": 2_000_000_000, "FirstName": "missing"})
    with fast_client(proxy.endpoint(), server, batch_size=100, concurrency=4) as client:
        results = client.sync_multiple_leads(records)  # type: ignore[arg-type]
        again = client.sync_multiple_leads(records)  # type: ignore[arg-type]
    assert len(results) == len(records) == 454
    failed = [i for i, r in enumerate(results) if r.status is SyncStatus.FAILED]
    assert failed == [5, 300, 453]
    assert results[5].attempts == 1  # the server judges a record without a key
    assert results[300].error is not None
    assert "LeadScore" in results[300].error
    assert results[453].lead_id is None
    created = [r for r in results if r.status is SyncStatus.CREATED]
    assert len(created) == 451
    assert len({r.lead_id for r in created}) == 451
    # The second run finds each lead again, at the same position.
    for first, second in zip(results, again, strict=True):
        if first.status is SyncStatus.CREATED:
            assert second.status is SyncStatus.UPDATED
            assert second.lead_id == first.lead_id
    assert sum(s.records for s in proxy.seen) == 2 * 454


def test_split_by_count(server: Server, proxy: FaultProxy, prefix: str) -> None:
    with fast_client(proxy.endpoint(), server) as client:
        results = client.sync_multiple_leads(leads(prefix, 700))
    assert all(r.ok for r in results)
    assert sorted(s.records for s in proxy.seen) == [100, 300, 300]
    assert emails_in_db(server, f"{prefix}-%") == {
        f"{prefix}-{i}@example.com": 1 for i in range(700)
    }


def test_split_by_bytes(server: Server, proxy: FaultProxy, prefix: str) -> None:
    notes = "n" * 3000  # about 3.2 kB per record
    with fast_client(proxy.endpoint(), server, max_batch_bytes=50_000) as client:
        results = client.sync_multiple_leads(leads(prefix, 60, Address=notes))
        too_big = client.sync_multiple_leads(
            [{"Email": f"{prefix}-big@x.com", "Address": "b" * 60_000}]
        )
    assert all(r.ok for r in results)
    assert all(s.size <= 50_000 for s in proxy.seen)
    assert sum(s.records for s in proxy.seen) == 60
    assert len(proxy.seen) == 4  # 15 records of ~3.2 kB fill 50 kB
    assert too_big[0].status is SyncStatus.FAILED
    assert too_big[0].attempts == 0
    assert "more than one call may carry" in (too_big[0].error or "")


def test_dedup_off_creates_and_dedup_on_updates(server: Server, prefix: str) -> None:
    rows = leads(prefix, 3)
    with fast_client(server.endpoint, server) as client:
        client.sync_multiple_leads(rows)
        off = client.sync_multiple_leads(rows, dedup=False)
        on = client.sync_multiple_leads(rows, dedup=True)
    assert [r.status for r in off] == [SyncStatus.CREATED] * 3
    assert [r.status for r in on] == [SyncStatus.UPDATED] * 3
    assert set(emails_in_db(server, f"{prefix}-%").values()) == {2}


def test_unknown_field_fails_its_call_not_the_rest(server: Server, prefix: str) -> None:
    rows = [*leads(prefix, 4), {"Email": f"{prefix}-x@example.com", "NoSuchField": "1"}]
    with fast_client(server.endpoint, server, batch_size=2) as client:
        results = client.sync_multiple_leads(rows)
    assert [r.ok for r in results] == [True, True, True, True, False]
    assert "20105" in (results[4].error or "")


def test_bad_credentials_abort_with_the_code(server: Server, prefix: str) -> None:
    client = Client(server.endpoint, server.user_id, "wrong", rate_limit=None)
    with client, pytest.raises(SyncAborted) as caught:
        client.sync_multiple_leads(leads(prefix, 10))
    assert isinstance(caught.value.error, MktowsFault)
    assert caught.value.error.code == 20014
    assert caught.value.results == {}


def test_unreachable_endpoint_aborts(server: Server) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/soap/mktows/2_2"
    with fast_client(endpoint, server, max_attempts=2) as client:
        with pytest.raises(SyncAborted) as caught:
            client.sync_multiple_leads([{"Email": "a@example.com"}])
        assert isinstance(caught.value.error, EndpointUnreachable)
        with pytest.raises(EndpointUnreachable, match="cannot reach"):
            client.probe_lead_fields()


def test_a_url_that_is_not_an_endpoint(server: Server) -> None:
    client = fast_client(server.base_url + "/nothing-here", server)
    with client, pytest.raises(SyncAborted) as caught:
        client.sync_multiple_leads([{"Email": "a@example.com"}])
    assert isinstance(caught.value.error, ProtocolError)
    assert "HTTP 404" in str(caught.value.error)


def test_streaming_results_for_a_generator(server: Server, prefix: str) -> None:
    def generate() -> object:
        for i in range(1000):
            yield {"Email": f"{prefix}-{i}@example.com"}

    with fast_client(server.endpoint, server) as client:
        count = sum(1 for r in client.iter_sync_multiple_leads(generate()) if r.ok)  # type: ignore[arg-type]
    assert count == 1000


def test_concurrency_is_bounded() -> None:
    with pytest.raises(ValueError, match="between 1 and 10"):
        Client("http://127.0.0.1:1/", "u", "k", concurrency=11)


# -- reads, as the server supports them -----------------------------------------------------


def _supports(server: Server, operation: str) -> None:
    with fast_client(server.endpoint, server) as client:
        try:
            if operation == "describeMObject":
                client.describe_lead_fields()
            elif operation == "getLead":
                client.get_lead("EMAIL", "probe@example.com")
            elif operation == "getMultipleLeads":
                next(
                    client.get_multiple_leads(LeadKeySelector("EMAIL", ("probe@example.com",))),
                    None,
                )
            elif operation == "syncLead":
                client.sync_lead({"Email": "probe-sync-lead@example.com"})
        except MktowsFault as fault:
            if fault.code == 20019:
                pytest.skip(f"the server answers {operation} with 20019 Unsupported Operation")
            raise


def test_describe_lead_fields(server: Server) -> None:
    _supports(server, "describeMObject")
    with fast_client(server.endpoint, server) as client:
        fields = {f.name: f for f in client.describe_lead_fields()}
        assert fields == {f.name: f for f in client.probe_lead_fields() or []}
    assert fields["Email"].data_type == "email"
    assert fields["LeadScore"].data_type == "integer"


def test_sync_lead_and_get_lead(server: Server, prefix: str) -> None:
    _supports(server, "syncLead")
    _supports(server, "getLead")
    email = f"{prefix}@example.com"
    with fast_client(server.endpoint, server) as client:
        synced = client.sync_lead({"Email": email, "FirstName": "Ann"}, return_lead=True)
        assert synced.result.status is SyncStatus.CREATED
        assert synced.lead is not None
        assert synced.lead.attributes["FirstName"] == "Ann"
        found = client.get_lead("EMAIL", email)
        assert [lead.id for lead in found] == [synced.result.lead_id]
        assert client.get_lead("EMAIL", f"{prefix}-nobody@example.com") == []


def test_get_multiple_leads_pages_through_everything(server: Server, prefix: str) -> None:
    _supports(server, "getMultipleLeads")
    since = datetime.now(UTC) - timedelta(seconds=5)
    emails = [f"{prefix}-{i}@example.com" for i in range(25)]
    with fast_client(server.endpoint, server) as client:
        client.sync_multiple_leads([{"Email": e} for e in emails])
        by_key = list(
            client.get_multiple_leads(LeadKeySelector("EMAIL", tuple(emails)), batch_size=10)
        )
        assert sorted(lead.email or "" for lead in by_key) == sorted(emails)
        recent = client.get_multiple_leads(LastUpdateAtSelector(since), batch_size=7)
        seen = [lead.email for lead in recent if (lead.email or "").startswith(prefix)]
    assert sorted(seen) == sorted(emails)  # type: ignore[type-var]


# -- the client stands alone ----------------------------------------------------------------


def test_client_imports_nothing_from_the_server_side() -> None:
    code = (
        "import sys, leadsync.client, leadsync.client.push, leadsync.client.csvsource\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "leadsync.client.client" in loaded
    # The wire kit is shared with the server; the server itself is not.
    assert {"leadsync.mktows.xml", "leadsync.mktows.codes", "leadsync.mktows.signing"} <= loaded
    forbidden = (
        "leadsync.operations",
        "leadsync.store",
        "leadsync.soap",
        "leadsync.app",
        "leadsync.cli",
        "leadsync.config",
        "leadsync.errors",
        "leadsync.model",
        "starlette",
        "uvicorn",
        "psycopg",
        "psycopg_pool",
    )
    leaked = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert leaked == []
