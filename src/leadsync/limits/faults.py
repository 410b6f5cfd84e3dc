"""Fault rules: how they are written, and which of them fire on a call.

A rule is written ``key=value`` pairs joined by commas, for example
``op=syncMultipleLeads,code=20023,times=2`` or ``p=0.1,status=503``; several rules are joined
by ``;``. The same keys make up a rule's JSON form in the admin API. docs/testing.md has the
whole table.

Whether a rule fires on the k-th call it matches is a function of its seed and k alone, and
k is counted in the database, so a seeded rule fires on the same calls however many workers
share the work.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from leadsync.errors import CATALOGUE, REST_CATALOGUE
from leadsync.store.control import FaultRule

#: The longest delay a rule may add.
MAX_DELAY_MS = 600_000
_DROP_WHEN = ("before", "after")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_KEYS = ("op", "user", "code", "drop", "status", "delay", "p", "times", "seed")
_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$", re.IGNORECASE)


class RuleError(ValueError):
    """A rule that cannot be used; the text says why."""


def parse_rules(text: str, *, seed: str = "", operations: Collection[str] = ()) -> list[FaultRule]:
    """Every rule of ``"rule; rule; ..."``."""
    return [
        parse_rule(part, seed=seed, operations=operations)
        for part in text.split(";")
        if part.strip()
    ]


def parse_rule(text: str, *, seed: str = "", operations: Collection[str] = ()) -> FaultRule:
    """One rule from its text form. ``seed`` is used when the rule names none (a random one
    when both are empty); ``operations``, when given, are the names ``op`` may take."""
    values: dict[str, Any] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if key == "drop" and not sep:
            value = "before"
        elif not sep:
            raise RuleError(f"bad fault rule {text!r}: {part.strip()!r} is not KEY=VALUE")
        if key in values:
            raise RuleError(f"bad fault rule {text!r}: {key} is given twice")
        values[key] = value.strip()
    return rule_from_mapping(values, seed=seed, operations=operations, source=text)


def rule_from_mapping(
    data: Mapping[str, Any],
    *,
    seed: str = "",
    operations: Collection[str] = (),
    source: str | None = None,
) -> FaultRule:
    """A rule from its JSON (or parsed text) form; values may be strings or numbers."""
    where = f"bad fault rule {source!r}" if source is not None else "bad fault rule"
    unknown = [key for key in data if key not in _KEYS]
    if unknown:
        raise RuleError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise RuleError(f"{where}: {key} must be a string or a number")
        return str(value).strip() or None

    def integer(key: str, low: int, high: int) -> int | None:
        raw = text(key)
        if raw is None:
            return None
        try:
            number = int(raw)
        except ValueError:
            raise RuleError(f"{where}: {key} must be a whole number, not {raw!r}") from None
        if not low <= number <= high:
            raise RuleError(f"{where}: {key} must lie between {low} and {high}")
        return number

    operation = text("op")
    if operation == "*":
        operation = None
    if operation is not None:
        if not _NAME.match(operation):
            raise RuleError(f"{where}: {operation!r} is not an operation name")
        if operations and operation not in operations:
            raise RuleError(f"{where}: the WSDL has no operation {operation!r}")
    code = integer("code", 0, 99_999)
    if code is not None and code not in CATALOGUE and str(code) not in REST_CATALOGUE:
        raise RuleError(f"{where}: {code} is not a Marketo error code (docs/errors.md)")
    drop = text("drop")
    if drop is not None:
        drop = drop.lower()
        if drop not in _DROP_WHEN:
            raise RuleError(f"{where}: drop must be 'before' or 'after', not {drop!r}")
    status = integer("status", 400, 599)
    if sum(x is not None for x in (code, drop, status)) > 1:
        raise RuleError(f"{where}: give at most one of code, drop and status")
    delay_ms = _delay_ms(text("delay"), where)
    if code is None and drop is None and status is None and not delay_ms:
        raise RuleError(f"{where}: say what it does: code, drop, status or delay")
    probability = _probability(text("p"), where)
    times = integer("times", 1, 2**31 - 1)
    return FaultRule(
        operation=operation,
        user_id=text("user"),
        code=code,
        drop=drop,
        status=status,
        delay_ms=delay_ms,
        probability=probability,
        times=times,
        seed=text("seed") or seed or secrets.token_hex(8),
    )


def _delay_ms(raw: str | None, where: str) -> int:
    if raw is None:
        return 0
    match = _DELAY.match(raw)
    if not match:
        raise RuleError(f"{where}: delay must be seconds (1.5) or milliseconds (250ms)")
    ms = round(float(match[1]) * (1 if (match[2] or "s").lower() == "ms" else 1000))
    if ms > MAX_DELAY_MS:
        raise RuleError(f"{where}: delay must be at most {MAX_DELAY_MS // 1000} s")
    return ms


def _probability(raw: str | None, where: str) -> float:
    if raw is None:
        return 1.0
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise RuleError(f"{where}: p must be a share such as 0.25 or 25%") from None
    if not 0 < value <= 1:
        raise RuleError(f"{where}: p must lie above 0 and at most 1")
    return value


def rule_text(rule: FaultRule) -> str:
    """The text form that ``parse_rule`` reads back into the same rule."""
    parts = []
    if rule.operation is not None:
        parts.append(f"op={rule.operation}")
    if rule.user_id is not None:
        parts.append(f"user={rule.user_id}")
    if rule.code is not None:
        parts.append(f"code={rule.code}")
    if rule.drop is not None:
        parts.append("drop" if rule.drop == "before" else f"drop={rule.drop}")
    if rule.status is not None:
        parts.append(f"status={rule.status}")
    if rule.delay_ms:
        parts.append(f"delay={rule.delay_ms}ms")
    if rule.probability != 1.0:
        parts.append(f"p={rule.probability:g}")
    if rule.times is not None:
        parts.append(f"times={rule.times}")
    parts.append(f"seed={rule.seed}")
    return ",".join(parts)


def rule_json(rule: FaultRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "op": rule.operation,
        "user": rule.user_id,
        "code": rule.code,
        "drop": rule.drop,
        "status": rule.status,
        "delay": rule.delay_ms / 1000,
        "p": rule.probability,
        "times": rule.times,
        "seed": rule.seed,
        "matched": rule.matched,
        "fired": rule.fired,
        "rule": rule_text(rule),
    }


def fires(rule: FaultRule, position: int) -> bool:
    """Whether ``rule`` fires on the ``position``-th call it matches."""
    if rule.probability >= 1.0:
        return True
    digest = hashlib.blake2b(f"{rule.seed}\0{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rule.probability


def choose(candidates: Sequence[tuple[FaultRule, int]]) -> list[int]:
    """The precedence of rules: in the order they were added, every rule that fires adds its
    delay, and the first that fires with a code, a drop or a status decides the answer; the
    later ones of that kind do not fire (and so do not use up their ``times``)."""
    chosen: list[int] = []
    decided = False
    for rule, position in candidates:
        if not fires(rule, position):
            continue
        if rule.outcome:
            if decided:
                continue
            decided = True
        chosen.append(rule.id)
    return chosen
