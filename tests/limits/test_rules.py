"""Limit settings, quota days and fault rules, without a server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leadsync.config import Settings
from leadsync.errors import ConfigError
from leadsync.limits.faults import (
    RuleError,
    choose,
    fires,
    parse_rule,
    parse_rules,
    rule_from_mapping,
    rule_json,
    rule_text,
)
from leadsync.limits.policy import (
    MARKETO,
    DayClock,
    format_rate,
    parse_rate,
    quota_zone,
    server_limits,
)
from leadsync.store.control import FaultRule, LimitValues


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100/20s", (100, 20_000)),
        ("100/20", (100, 20_000)),
        (" 3 / 0.25s ", (3, 250)),
        ("5/500ms", (5, 500)),
        ("60/1m", (60, 60_000)),
        ("1000/1h", (1000, 3_600_000)),
        ("7", (7, None)),
        ("off", (0, None)),
        ("0", (0, None)),
    ],
)
def test_parse_rate(text: str, expected: tuple[int, int | None]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "fast", "10/", "10/0s", "-1/20s", "10/20d", "1001/20s"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_rate(text)


def test_format_rate() -> None:
    assert format_rate(100, 20_000) == "100/20s"
    assert format_rate(3, 250) == "3/250ms"
    assert format_rate(0, 20_000) == "off"
    assert format_rate(5, None) == "5/20s"


def test_server_limits_are_off_by_default() -> None:
    assert server_limits(Settings()) == LimitValues(0, 0, 20_000, 0)
    assert not server_limits(Settings()).any


def test_marketo_limits_fill_in_what_is_not_given() -> None:
    assert server_limits(Settings(marketo_limits=True)) == MARKETO
    assert LimitValues(10_000, 100, 20_000, 10) == MARKETO
    mixed = server_limits(Settings(marketo_limits=True, daily_quota=50_000, rate_limit="5/1s"))
    assert mixed == LimitValues(50_000, 5, 1000, 10)
    # A count alone keeps Marketo's window.
    assert server_limits(Settings(marketo_limits=True, rate_limit="50")).rate_window_ms == 20_000


def test_bad_limit_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="cannot be negative"):
        server_limits(Settings(concurrency_limit=-1))
    with pytest.raises(ConfigError, match="time zone"):
        quota_zone(Settings(quota_timezone="Mars/Olympus_Mons"))


def test_quota_day_ends_at_midnight_central_across_daylight_saving() -> None:
    days = DayClock(ZoneInfo("America/Chicago"))
    utc = ZoneInfo("UTC")
    # Winter: CST is UTC-6, so the day turns at 06:00 UTC.
    assert days.day(datetime(2026, 1, 15, 5, 59, 59, tzinfo=utc).timestamp()) == 20260114
    assert days.day(datetime(2026, 1, 15, 6, 0, 0, tzinfo=utc).timestamp()) == 20260115
    # Summer: CDT is UTC-5.
    assert days.day(datetime(2026, 7, 15, 4, 59, 59, tzinfo=utc).timestamp()) == 20260714
    assert days.day(datetime(2026, 7, 15, 5, 0, 0, tzinfo=utc).timestamp()) == 20260715


# -- fault rules --------------------------------------------------------------------------
def test_a_rule_reads_back_from_its_text() -> None:
    rule = parse_rule(
        "op=syncMultipleLeads, user=alice, code=20023, delay=250ms, p=25%, times=3, seed=7"
    )
    assert rule == FaultRule(
        operation="syncMultipleLeads",
        user_id="alice",
        code=20023,
        delay_ms=250,
        probability=0.25,
        times=3,
        seed="7",
    )
    assert parse_rule(rule_text(rule)) == rule
    for text in ("drop", "drop=after,delay=1.5", "status=503,op=*", "delay=2"):
        again = parse_rule(text, seed="s")
        assert parse_rule(rule_text(again)) == again
    assert parse_rule("drop").drop == "before"
    assert parse_rule("op=*,status=503").operation is None
    assert parse_rule("delay=1.5").delay_ms == 1500


def test_rules_take_the_server_seed_or_a_random_one() -> None:
    assert parse_rule("code=20011", seed="42").seed == "42"
    assert parse_rule("code=20011,seed=own", seed="42").seed == "own"
    assert parse_rule("code=20011").seed != parse_rule("code=20011").seed


def test_several_rules_and_the_json_form() -> None:
    rules = parse_rules("code=20011,times=1; ;op=getLead,drop", seed="x")
    assert [r.code for r in rules] == [20011, None]
    mapped = rule_from_mapping({"op": "getLead", "code": 20103, "p": 0.5, "delay": 1}, seed="x")
    assert (mapped.code, mapped.probability, mapped.delay_ms) == (20103, 0.5, 1000)
    shown = rule_json(mapped)
    assert shown["op"] == "getLead"
    assert shown["delay"] == 1.0
    assert parse_rule(shown["rule"]) == mapped


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "say what it does"),
        ("op=getLead", "say what it does"),
        ("code=12345", "not a Marketo error code"),
        ("code=20011,drop", "at most one of"),
        ("status=200", "between 400 and 599"),
        ("drop=sometimes", "'before' or 'after'"),
        ("code=20011,p=0", "above 0"),
        ("code=20011,p=2", "at most 1"),
        ("code=20011,times=0", "between 1"),
        ("code=20011,colour=red", "unknown key 'colour'"),
        ("code=20011,code=20012", "given twice"),
        ("code", "KEY=VALUE"),
        ("delay=11m", "seconds"),
        ("delay=601", "at most 600"),
        ("op=get Lead,code=20011", "not an operation name"),
    ],
)
def test_bad_rules_say_why(text: str, problem: str) -> None:
    with pytest.raises(RuleError, match=problem):
        parse_rule(text)


def test_operation_names_are_checked_when_known() -> None:
    with pytest.raises(RuleError, match="no operation 'syncMultipleLead'"):
        parse_rule("op=syncMultipleLead,code=20011", operations={"syncMultipleLeads"})


def test_a_share_is_a_function_of_seed_and_position() -> None:
    rule = FaultRule(code=20011, probability=0.3, seed="abc")
    first = [fires(rule, k) for k in range(1, 2001)]
    assert first == [fires(rule, k) for k in range(1, 2001)]
    assert 0.25 < sum(first) / len(first) < 0.35
    other = FaultRule(code=20011, probability=0.3, seed="abd")
    assert first != [fires(other, k) for k in range(1, 2001)]
    assert all(fires(FaultRule(code=20011), k) for k in range(1, 50))


def test_precedence_delays_add_up_and_the_first_answer_wins() -> None:
    slow = FaultRule(id=1, delay_ms=100)
    fault = FaultRule(id=2, code=20023)
    drop = FaultRule(id=3, drop="before")
    never = FaultRule(id=4, code=20011, probability=1e-12, seed="x")
    slower = FaultRule(id=5, delay_ms=50)
    picked = choose([(never, 1), (slow, 1), (fault, 1), (drop, 1), (slower, 1)])
    assert picked == [1, 2, 5]
    assert choose([(drop, 1), (fault, 1)]) == [3]
