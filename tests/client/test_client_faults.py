"""Retries through a real proxy that faults, drops and stalls: no row lost or duplicated."""

from __future__ import annotations

from collections import Counter

from client.faultproxy import FaultProxy
from client.helpers import emails_in_db, fast_client, leads
from leadsync.client import SyncStatus
from support import Server


def expected(prefix: str, count: int, times: int = 1) -> dict[str, int]:
    return {f"{prefix}-{i}@example.com": times for i in range(count)}


def test_rate_concurrency_and_expiry_faults_are_retried(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    proxy.add(["fault:20023", "fault:20024", "fault:20016", "fault:20023", "fault:20016"])
    with fast_client(proxy.endpoint(), server, batch_size=100, concurrency=4) as client:
        results = client.sync_multiple_leads(leads(prefix, 600), dedup=False)
    assert [r.status for r in results] == [SyncStatus.CREATED] * 600
    assert sum(r.attempts - 1 for r in results) == 5 * 100
    assert len(proxy.seen) == 6 + 5
    # Refused calls never ran, so even without dedup nothing was created twice.
    assert emails_in_db(server, f"{prefix}-%") == expected(prefix, 600)


def test_dropped_connections_and_503_are_retried_when_dedup_is_on(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    proxy.add(["drop", "drop-after", "503", "drop-after"])
    with fast_client(proxy.endpoint(), server, batch_size=50, concurrency=3) as client:
        results = client.sync_multiple_leads(leads(prefix, 300))
    assert all(r.ok for r in results)
    assert sum(r.attempts - 1 for r in results) == 4 * 50
    # Two calls ran twice; dedup turned the second run of each into updates.
    assert Counter(proxy.forwarded_emails()).most_common(1)[0][1] == 2
    assert emails_in_db(server, f"{prefix}-%") == expected(prefix, 300)
    assert len({r.lead_id for r in results}) == 300


def test_unknown_outcome_is_not_resent_without_dedup(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    proxy.add(["forward", "drop-after", "503"])
    with fast_client(proxy.endpoint(), server, batch_size=10, concurrency=1) as client:
        results = client.sync_multiple_leads(leads(prefix, 40), dedup=False)
    statuses = [r.status for r in results]
    assert (
        statuses
        == [SyncStatus.CREATED] * 10 + [SyncStatus.UNKNOWN] * 20 + [SyncStatus.CREATED] * 10
    )
    assert {r.attempts for r in results} == {1}
    assert "not sent again because dedup is off" in (results[10].error or "")
    # Each record reached the server at most once: the dropped call ran, the 503 did not.
    assert Counter(proxy.forwarded_emails()) == {
        e: 1 for i, e in enumerate(expected(prefix, 40)) if not 20 <= i < 30
    }
    in_db = emails_in_db(server, f"{prefix}-%")
    assert set(in_db.values()) == {1}
    assert len(in_db) == 30


def test_unsafe_retry_resends_and_can_duplicate(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    proxy.add(["drop-after"])
    with fast_client(
        proxy.endpoint(), server, batch_size=10, concurrency=1, allow_unsafe_retry=True
    ) as client:
        results = client.sync_multiple_leads(leads(prefix, 10), dedup=False)
    assert all(r.ok and r.attempts == 2 for r in results)
    assert emails_in_db(server, f"{prefix}-%") == expected(prefix, 10, times=2)


def test_retries_give_up_and_fail_only_that_batch(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    proxy.add(["forward", "fault:20024", "fault:20024", "fault:20024"])
    with fast_client(
        proxy.endpoint(), server, batch_size=5, concurrency=1, max_attempts=3
    ) as client:
        results = client.sync_multiple_leads(leads(prefix, 15))
    assert [r.status for r in results] == (
        [SyncStatus.CREATED] * 5 + [SyncStatus.FAILED] * 5 + [SyncStatus.CREATED] * 5
    )
    assert results[5].attempts == 3
    assert results[5].error == (
        "20024 - Concurrency Limit Exceeded: Concurrency Limit Exceeded (20024) "
        "(gave up after 3 attempts)"
    )
    assert len(emails_in_db(server, f"{prefix}-%")) == 10
