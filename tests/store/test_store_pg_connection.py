"""PostgreSQL connection trouble: unreachable at start, lost mid-call, back after an outage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from leadsync.errors import ConfigError, StoreUnavailable
from leadsync.model import Lead
from leadsync.store import Store, open_store
from leadsync.store.postgres import PostgresStore
from pgproxy import Proxy


def terminate_sessions(url: str, application_name: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application_name,),
        ).fetchall()
    return len(rows)


def new_lead(lead_id: int) -> Lead:
    now = datetime.now(UTC)
    return Lead(lead_id, f"l{lead_id}@x.com", None, None, {"City": "Oslo"}, now, now)


def count(store: Store) -> int:
    with store.read() as reader:
        return reader.count_leads()


@pytest.fixture
def victim_url(postgres_url: str) -> str:
    """The test database under an application_name that picks out the store's sessions."""
    return f"{postgres_url}&application_name=leadsync_victim"


@pytest.fixture
def victim(victim_url: str) -> Iterator[Store]:
    store = open_store(victim_url)
    try:
        yield store
    finally:
        store.close()


def test_an_unreachable_server_fails_at_once_in_one_line() -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        PostgresStore("postgresql://nobody@127.0.0.1:1/x")
    assert time.monotonic() - started < 5
    assert "\n" not in str(caught.value)
    assert "127.0.0.1:1/x" in str(caught.value)


def test_a_missing_database_is_unavailable(postgres_url: str) -> None:
    missing = postgres_url.split("?")[0].rsplit("/", 1)[0] + "/leadsync_no_such_database"
    with pytest.raises(StoreUnavailable):
        open_store(missing)


def test_a_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        PostgresStore("postgresql://postgres@127.0.0.1/test?no_such_parameter=1")


def test_a_connection_lost_before_commit_fails_the_write(victim: Store, victim_url: str) -> None:
    def doomed() -> None:
        with victim.write() as tx:
            (lead_id,) = tx.allocate_ids(1)
            tx.insert_leads([new_lead(lead_id)])
            assert terminate_sessions(victim_url, "leadsync_victim") >= 1

    with pytest.raises(StoreUnavailable):
        doomed()
    assert count(victim) == 0


def test_a_connection_lost_mid_write_fails_the_write(victim: Store, victim_url: str) -> None:
    def doomed() -> None:
        with victim.write() as tx:
            (lead_id,) = tx.allocate_ids(1)
            terminate_sessions(victim_url, "leadsync_victim")
            tx.insert_leads([new_lead(lead_id)])

    with pytest.raises(StoreUnavailable):
        doomed()
    assert count(victim) == 0
    victim.add_user("after", "k")
    assert victim.get_user("after") is not None


def test_connections_dropped_while_idle_are_replaced_without_failing_a_call(
    victim: Store, victim_url: str
) -> None:
    from pg_worker import warm_pool

    warm_pool(victim, 6)
    assert terminate_sessions(victim_url, "leadsync_victim") >= 6
    started = time.monotonic()
    assert victim.get_user("nobody") is None
    assert count(victim) == 0
    with victim.write() as tx:
        tx.insert_leads([new_lead(tx.allocate_ids(1)[0])])
    assert count(victim) == 1
    assert time.monotonic() - started < 2


def test_the_store_recovers_when_the_server_comes_back(postgres_url: str) -> None:
    proxy = Proxy(("127.0.0.1", 5432))
    proxy.start()
    via_proxy = postgres_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    assert via_proxy != postgres_url
    store = PostgresStore(via_proxy, max_size=2, timeout=1)
    try:
        store.migrate()
        from pg_worker import warm_pool

        warm_pool(store, 2)
        proxy.stop()
        with pytest.raises(StoreUnavailable):
            count(store)
        with pytest.raises(StoreUnavailable):
            store.add_user("during", "k")
        proxy.start()
        started = time.monotonic()
        while True:
            try:
                assert count(store) == 0
                break
            except StoreUnavailable:
                assert time.monotonic() - started < 10, "the pool did not reconnect"
        print(f"recovered after {time.monotonic() - started:.2f}s")
        store.add_user("after", "k")
        assert [u.user_id for u in store.list_users()] == ["after"]
    finally:
        store.close()
        proxy.stop()
