"""GET /metrics: what it counts, who may read it, and several workers summed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from backends import postgres_database, skip_postgres
from leadsync.app import create_app
from leadsync.config import Settings
from leadsync.store.base import Store
from support import (
    DEMO_KEY,
    DEMO_USER,
    envelope,
    lead_record,
    running_server,
    sync_params,
)

LOOPBACK = ("127.0.0.1", 40000)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    store.add_user(DEMO_USER, DEMO_KEY)
    with TestClient(create_app(Settings(), store), client=LOOPBACK) as tc:
        yield tc


def _sync(client: TestClient, *emails: str) -> httpx.Response:
    body = envelope("syncMultipleLeads", sync_params([lead_record(e) for e in emails]))
    return client.post("/soap/mktows/2_2", content=body)


def test_counters_move_as_calls_are_made(client: TestClient) -> None:
    before = client.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    op = {"api": "soap", "operation": "syncMultipleLeads"}

    assert _sync(client, "m1@example.com", "m2@example.com").status_code == 200
    assert _sync(client, "m1@example.com", "bad-email").status_code == 200
    bad = envelope("syncMultipleLeads", sync_params([]), key="wrong")
    assert client.post("/soap/mktows/2_2", content=bad).status_code == 500
    after = client.get("/metrics").text

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before.text, name, **labels)

    assert moved("leadsync_calls_total", **op, outcome="ok") == 2
    # Credentials are checked before the Body is read: a refused call may name no operation.
    other = {"api": "soap", "operation": "other"}
    refused = moved("leadsync_calls_total", **op, outcome="fault")
    assert refused + moved("leadsync_calls_total", **other, outcome="fault") == 1
    assert moved("leadsync_records_total", **op, status="created") == 2
    assert moved("leadsync_records_total", **op, status="updated") == 1
    assert moved("leadsync_records_total", **op, status="failed") == 1
    assert moved("leadsync_faults_total", api="soap", code="20014") == 1
    assert moved("leadsync_call_duration_seconds_count", **op) == 2 + refused
    assert value(after, "leadsync_calls_in_flight", api="soap") == 0


def test_unknown_operation_names_share_one_series(client: TestClient) -> None:
    body = envelope("noSuchOperationXyz", "")
    assert client.post("/soap/mktows/2_2", content=body).status_code == 500
    text = client.get("/metrics").text
    assert "noSuchOperationXyz" not in text
    assert value(text, "leadsync_calls_total", api="soap", operation="other", outcome="fault")


def test_limit_rejects_are_counted_by_code(store: Store) -> None:
    store.add_user(DEMO_USER, DEMO_KEY)
    app = create_app(Settings(concurrency_limit=1, daily_quota=1), store)
    with TestClient(app, client=LOOPBACK) as tc:
        before = value(tc.get("/metrics").text, "leadsync_limit_rejects_total", code="20015")
        assert _sync(tc, "q1@example.com").status_code == 200
        assert _sync(tc, "q2@example.com").status_code == 500
        after = value(tc.get("/metrics").text, "leadsync_limit_rejects_total", code="20015")
    assert after - before == 1


@pytest.mark.parametrize("host", ["10.1.2.3", "2001:db8::1"])
def test_only_loopback_clients_without_a_token(store: Store, host: str) -> None:
    with TestClient(create_app(Settings(), store), client=(host, 40000)) as tc:
        assert tc.get("/metrics").status_code == 403


def test_a_token_is_required_once_set(store: Store) -> None:
    app = create_app(Settings(metrics_token="s3cret"), store)
    with TestClient(app, client=("10.1.2.3", 40000)) as tc:
        assert tc.get("/metrics").status_code == 401
        assert tc.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = tc.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert "leadsync_calls_total" in ok.text


def test_metrics_can_be_turned_off(store: Store) -> None:
    with TestClient(create_app(Settings(metrics=False), store), client=LOOPBACK) as tc:
        assert tc.get("/metrics").status_code == 404


@pytest.mark.slow
def test_two_workers_on_postgresql_add_up(tmp_path: Path) -> None:
    if skip_postgres():
        pytest.skip("LEADSYNC_TEST_SKIP_POSTGRES=1")
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left over from an earlier run")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder)}
    with (
        postgres_database() as url,
        running_server(tmp_path, "--workers", "2", database_url=url, env=env) as srv,
    ):
        calls = 0
        # New connections until both workers have answered calls (each keeps its own file).
        while len(list(folder.glob("counter_*.db"))) < 2 and calls < 200:
            body = envelope("syncMultipleLeads", sync_params([lead_record(f"w{calls}@e.com")]))
            with httpx.Client() as http:
                assert http.post(srv.endpoint, content=body).status_code == 200
            calls += 1
        assert len(list(folder.glob("counter_*.db"))) == 2
        for _ in range(4):
            with httpx.Client() as http:
                text = http.get(srv.base_url + "/metrics").text
            op = {"api": "soap", "operation": "syncMultipleLeads"}
            assert value(text, "leadsync_calls_total", **op, outcome="ok") == calls
            assert value(text, "leadsync_records_total", **op, status="created") == calls
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
