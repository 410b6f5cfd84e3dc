"""What a REST call leaves behind: metrics, a calls-history entry, and usage and error
counts (stats/usage.json, stats/errors.json), in process on each backend."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from restapp import CLIENT_ID, Rest, make_rest

from leadsync.call_history import CallHistory
from leadsync.cli import main
from leadsync.config import Settings
from leadsync.limits.faults import parse_rules
from leadsync.limits.policy import DayClock, quota_zone
from leadsync.operations.identity import create_service
from leadsync.rest.limits import ensure_subject
from leadsync.rest.routes import rest_operations
from leadsync.store.base import Store
from leadsync.store.calls import CallQuery
from leadsync.store.control import RATE_CODE, UsageCount

LEADS = "/rest/v1/leads.json"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(rest: Rest) -> Samples:
    answer = rest.http.get("/metrics")
    assert answer.status_code == 200
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def _bad_identity(rest: Rest) -> int:
    params = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "x"}
    return rest.http.get("/identity/oauth/token", params=params).status_code


def _calls(rest: Rest) -> None:
    """A sync (one created, one skipped), a 610, a 601, and identity right and wrong."""
    rest.ok(rest.post(LEADS, json={"input": [{"email": "c1@x.com"}]}))
    two = {"action": "createOnly", "input": [{"email": "c2@x.com"}, {"email": "c1@x.com"}]}
    rest.ok(rest.post(LEADS, json=two))
    assert rest.error(rest.get("/rest/asset/v1/folders.json")) == "610"
    assert rest.error(rest.http.get("/rest/v1/leads/partitions.json")) == "601"
    rest.authenticate()
    assert _bad_identity(rest) == 401


def test_rest_calls_move_the_metrics(rest: Rest) -> None:
    before = _samples(rest)
    _calls(rest)
    after = _samples(rest)
    sync = {"api": "rest", "operation": "syncLeads"}
    assert _moved(before, after, "leadsync_calls_total", **sync, outcome="ok") == 2
    assert _moved(before, after, "leadsync_records_total", **sync, status="created") == 2
    assert _moved(before, after, "leadsync_records_total", **sync, status="failed") == 1
    assert _moved(before, after, "leadsync_call_duration_seconds_count", **sync) == 2
    other = {"api": "rest", "operation": "other", "outcome": "fault"}
    # The 610 (no route) and the 601 (routed, refused before its handler runs).
    assert _moved(before, after, "leadsync_calls_total", **other) == 1
    partitions = {"api": "rest", "operation": "getPartitions", "outcome": "fault"}
    assert _moved(before, after, "leadsync_calls_total", **partitions) == 1
    assert _moved(before, after, "leadsync_faults_total", api="rest", code="610") == 1
    assert _moved(before, after, "leadsync_faults_total", api="rest", code="601") == 1
    identity = {"api": "rest", "operation": "identity"}
    assert _moved(before, after, "leadsync_calls_total", **identity, outcome="ok") == 1
    assert _moved(before, after, "leadsync_calls_total", **identity, outcome="fault") == 1
    assert _moved(before, after, "leadsync_faults_total", api="rest", code="401") == 1
    assert after[("leadsync_calls_in_flight", frozenset({("api", "rest")}))] == 0


def test_rest_limit_refusals_are_limit_rejects(store: Store) -> None:
    for rest in make_rest(store, Settings(rest_daily_quota=1)):
        before = _samples(rest)
        rest.ok(rest.get("/rest/v1/leads/partitions.json"))
        assert rest.error(rest.get("/rest/v1/leads/partitions.json")) == "607"
        after = _samples(rest)
        assert _moved(before, after, "leadsync_limit_rejects_total", code="607") == 1


def _history(rest: Rest) -> CallHistory:
    history = rest.api.history
    assert isinstance(history, CallHistory)
    return history


def test_rest_calls_leave_history_entries(rest: Rest) -> None:
    _calls(rest)
    _history(rest).flush()
    entries = rest.store.calls().page(CallQuery(api="rest"), 20)
    bad_token, good_token, refused, missing, skipped, created = entries[:6]
    assert (created.user_id, created.api, created.operation) == (CLIENT_ID, "rest", "syncLeads")
    assert (created.records, created.created, created.failed) == (1, 1, 0)
    assert created.summary == ""
    assert created.fault_code is None
    assert (skipped.records, skipped.created, skipped.failed) == (2, 1, 1)
    [failure] = json.loads(skipped.summary)["failures"]
    assert failure == {"index": 1, "lead_id": 0, "error": "1005 Lead already exists"}
    assert (missing.operation, missing.fault_code, missing.user_id) == ("other", 610, "-")
    assert "/rest/asset/v1/folders.json" in json.loads(missing.summary)["fault"]
    assert (refused.operation, refused.fault_code) == ("getPartitions", 601)
    assert (good_token.operation, good_token.user_id, good_token.fault_code) == (
        "identity",
        CLIENT_ID,
        None,
    )
    assert (bad_token.operation, bad_token.fault_code) == ("identity", 401)
    assert json.loads(bad_token.summary) == {"fault": "Bad client credentials"}
    # The console's Calls page filters on REST operation names too.
    assert rest.store.calls().page(CallQuery(operation="getPartitions"), 5) == [refused]


def _today(rest: Rest) -> int:
    return DayClock(quota_zone(Settings())).day(rest.clock.now().timestamp())


def test_usage_counts_rest_records(rest: Rest) -> None:
    rest.ok(rest.post(LEADS, json={"input": [{"email": f"u{n}@x.com"} for n in range(3)]}))
    [usage] = rest.store.limits().usage("@rest", now_ms=0, day=_today(rest), window_ms=0)
    assert (usage.day_calls, usage.records) == (1, 3)


def test_errors_report_every_code_answered(store: Store) -> None:
    store.faults().add(parse_rules("op=getLists,code=1013,times=1", operations=rest_operations()))
    for rest in make_rest(store, Settings(admin_token="t0ken", rest_rate_limit="5/20s")):
        assert rest.error(rest.get("/rest/v1/nowhere.json")) == "610"
        assert rest.error(rest.http.get("/rest/v1/leads/partitions.json")) == "601"
        bad_json = {"Content-Type": "application/json"}
        assert rest.error(rest.post(LEADS, content=b"{", headers=bad_json)) == "609"
        assert rest.error(rest.get("/rest/v1/lists.json")) == "1013"  # the fault rule
        for _ in range(3):
            rest.get("/rest/v1/leads/partitions.json")
        assert rest.error(rest.get("/rest/v1/leads/partitions.json")) == "606"
        rest.clock.advance(seconds=21)
        [today] = rest.ok(rest.get("/rest/v1/stats/errors.json"))["result"]
        assert today["errors"] == [
            {"errorCode": "601", "count": 1},
            {"errorCode": "606", "count": 1},
            {"errorCode": "609", "count": 1},
            {"errorCode": "610", "count": 1},
            {"errorCode": "1013", "count": 1},
        ]
        assert today["total"] == 5
        week = rest.ok(rest.get("/rest/v1/stats/errors/last7days.json"))["result"]
        assert week[0]["errors"][-1] == {"errorCode": "1013", "count": 1}
        assert [day["total"] for day in week[1:]] == [0] * 6


def test_usage_names_each_service_by_its_scope(rest: Rest) -> None:
    first = rest.service
    other = create_service(rest.store, "etl job", rest.clock.now())
    rest.ok(rest.get("/rest/v1/leads/partitions.json"))
    rest.service = other
    rest.authenticate()
    for _ in range(2):
        rest.ok(rest.get("/rest/v1/leads/partitions.json"))
    [today] = rest.ok(rest.get("/rest/v1/stats/usage.json"))["result"]
    # A call is counted once answered: this one is not in its own answer.
    assert today["total"] == 3
    assert today["users"] == [
        {"userId": "etl_job@leadsync", "count": 2},
        {"userId": "tests@leadsync", "count": 1},
    ]
    # A removed service's calls stay in the total, no longer under its name.
    rest.store.services().remove_service(other.client_id)
    rest.service = first
    rest.authenticate()
    [today] = rest.ok(rest.get("/rest/v1/stats/usage.json"))["result"]
    assert today["total"] == 4
    assert today["users"] == [{"userId": "tests@leadsync", "count": 1}]


def test_users_usage_shows_rest_against_rest_limits(store: Store) -> None:
    ensure_subject(store)
    day = DayClock(quota_zone(Settings())).day(time.time())
    limits = store.limits()
    limits.count_usage(UsageCount("@rest", day, calls=2, records=5))
    limits.count_usage(UsageCount("@rest", day, rejected=RATE_CODE))
    limits.flush_usage()  # the CLI reads through a store of its own
    env = {"LEADSYNC_REST_DAILY_QUOTA": "50", "LEADSYNC_DAILY_QUOTA": "7"}
    shown = CliRunner().invoke(main, ["users", "usage", "@rest", "--database", store.url], env=env)
    assert shown.exit_code == 0, shown.output
    assert "  calls today:      2 of 50 " in shown.output
    assert "  records today:    5\n" in shown.output
    assert "  rejects today:    607: 0  606: 1  615: 0\n" in shown.output


def test_calls_refused_before_their_request_is_read_are_counted(rest: Rest) -> None:
    before = _samples(rest)
    big = b"{" + b" " * (1024 * 1024) + b"}"
    headers = {"Content-Type": "application/json"}
    assert rest.post(LEADS, content=big, headers=headers).status_code == 413
    assert rest.get(LEADS, params={"filterValues": "1" * 9000}).status_code == 414
    after = _samples(rest)
    sync = {"api": "rest", "operation": "syncLeads", "outcome": "fault"}
    assert _moved(before, after, "leadsync_calls_total", **sync) == 1
    assert _moved(before, after, "leadsync_faults_total", api="rest", code="413") == 1
    by_filter = {"api": "rest", "operation": "getLeadsByFilter", "outcome": "fault"}
    assert _moved(before, after, "leadsync_calls_total", **by_filter) == 1
    _history(rest).flush()
    too_long, too_large = rest.store.calls().page(CallQuery(api="rest", faults_only=True), 2)
    assert (too_large.operation, too_large.fault_code) == ("syncLeads", 413)
    assert (too_long.operation, too_long.fault_code) == ("getLeadsByFilter", 414)


def test_counts_written_with_the_end_of_a_concurrency_lease(store: Store) -> None:
    for rest in make_rest(store, Settings(rest_concurrency_limit=2)):
        bad_json = {"Content-Type": "application/json"}
        assert rest.error(rest.post(LEADS, content=b"[", headers=bad_json)) == "609"
        rest.ok(rest.get("/rest/v1/leads/partitions.json"))
        assert store.limits().leases() == []
        [errors] = rest.ok(rest.get("/rest/v1/stats/errors.json"))["result"]
        assert errors["errors"] == [{"errorCode": "609", "count": 1}]
        [usage] = rest.ok(rest.get("/rest/v1/stats/usage.json"))["result"]
        assert usage["users"] == [{"userId": "tests@leadsync", "count": 3}]
