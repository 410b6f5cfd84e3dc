"""SQLite storage for call limits and fault rules.

Every decision is one ``BEGIN IMMEDIATE`` transaction on the store's writer, which holds the
database's single write lock: processes sharing the file take turns, so counts are exact.
"""

from __future__ import annotations

import sqlite3
import sys
from array import array
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from leadsync.store.control import (
    CONCURRENCY_CODE,
    LIMIT_CODES,
    LIMIT_FIELDS,
    QUOTA_CODE,
    RATE_CODE,
    RULE_COLUMNS,
    Admission,
    AdmissionRequest,
    FaultChooser,
    FaultRule,
    FaultStore,
    LimitStore,
    LimitValues,
    UnknownUser,
    Usage,
    row_to_rule,
)


class _Transactional(Protocol):
    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]: ...


_LIMIT_COLUMNS = (
    "daily_quota, rate_calls, rate_window_ms, concurrency, day, day_calls, recent, in_flight,"
    " rejected_quota, rejected_rate, rejected_concurrency"
)


def _unpack(blob: bytes) -> list[int]:
    times = array("q")
    times.frombytes(blob)
    if _BIG_ENDIAN:
        times.byteswap()
    return times.tolist()


def _pack(times: Sequence[int]) -> bytes:
    packed = array("q", times)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


# The file may move between machines: call times are stored little-endian everywhere.
_BIG_ENDIAN = sys.byteorder == "big"


_LIMITED_USERS = (
    "SELECT user_id FROM user_limits WHERE daily_quota > 0 OR rate_calls > 0 OR concurrency > 0"
)


def _overrides(row: Sequence[Any]) -> LimitValues:
    return LimitValues(row[0], row[1], row[2], row[3])


class SQLiteLimits(LimitStore):
    def __init__(self, store: _Transactional) -> None:
        self._store = store

    def overrides(self, user_id: str) -> LimitValues:
        rows = self._store._fetch(
            "SELECT daily_quota, rate_calls, rate_window_ms, concurrency"
            " FROM user_limits WHERE user_id = ?",
            (user_id,),
        )
        return _overrides(rows[0]) if rows else LimitValues()

    def limited_users(self) -> frozenset[str]:
        rows = self._store._fetch(_LIMITED_USERS)
        return frozenset(row[0] for row in rows)

    def update_limits(self, user_id: str, changes: Mapping[str, int | None]) -> LimitValues:
        unknown = set(changes) - set(LIMIT_FIELDS)
        if unknown:
            raise ValueError(f"unknown limits: {sorted(unknown)}")
        with self._store._transaction() as conn:
            if not conn.execute("SELECT 1 FROM api_users WHERE user_id = ?", (user_id,)).fetchone():
                raise UnknownUser(f"no API user {user_id!r}")
            conn.execute("INSERT OR IGNORE INTO user_limits (user_id) VALUES (?)", (user_id,))
            if changes:
                assignments = ", ".join(f"{name} = ?" for name in changes)
                conn.execute(
                    f"UPDATE user_limits SET {assignments} WHERE user_id = ?",
                    (*changes.values(), user_id),
                )
            row = conn.execute(
                "SELECT daily_quota, rate_calls, rate_window_ms, concurrency"
                " FROM user_limits WHERE user_id = ?",
                (user_id,),
            ).fetchone()
        return _overrides(row)

    def admit(self, request: AdmissionRequest) -> Admission:
        user, now = request.user_id, request.now_ms
        with self._store._transaction() as conn:
            row = conn.execute(
                f"SELECT {_LIMIT_COLUMNS} FROM user_limits WHERE user_id = ?", (user,)
            ).fetchone()
            if row is None:
                conn.execute("INSERT INTO user_limits (user_id) VALUES (?)", (user,))
                row = (None, None, None, None, 0, 0, b"", 0, 0, 0, 0)
            limits = _overrides(row).over(request.defaults)
            same_day = row[4] == request.day
            day_calls = row[5] if same_day else 0
            quota, rate = limits.daily_quota or 0, limits.rate_calls or 0
            window = limits.rate_window_ms or 0
            recent = [t for t in _unpack(row[6]) if t > now - window] if rate and window else []
            in_flight = row[7]
            code = 0
            if quota and day_calls >= quota:
                code = QUOTA_CODE
            elif rate and len(recent) >= rate:
                code = RATE_CODE
            elif limits.concurrency and in_flight >= limits.concurrency:
                in_flight -= self._reap(conn, user, now)
                if in_flight >= limits.concurrency:
                    code = CONCURRENCY_CODE
            rejects = list(row[8:11]) if same_day else [0, 0, 0]
            leased = False
            if code:
                rejects[LIMIT_CODES.index(code)] += 1
            else:
                day_calls += 1
                if rate:
                    recent = [*recent, now][-rate:]
                if limits.concurrency:
                    conn.execute(
                        "INSERT INTO call_leases (lease_id, user_id, expires_ms) VALUES (?, ?, ?)",
                        (request.lease_id, user, request.lease_expires_ms),
                    )
                    in_flight += 1
                    leased = True
            conn.execute(
                "UPDATE user_limits SET day = ?, day_calls = ?, recent = ?, in_flight = ?,"
                " rejected_quota = ?, rejected_rate = ?, rejected_concurrency = ?"
                " WHERE user_id = ?",
                (request.day, day_calls, _pack(recent), in_flight, *rejects, user),
            )
        retry_at = recent[0] + window if code == RATE_CODE and recent else 0
        return Admission(code, limits, day_calls, len(recent), in_flight, leased, retry_at)

    @staticmethod
    def _reap(conn: sqlite3.Connection, user_id: str, now_ms: int) -> int:
        cur = conn.execute(
            "DELETE FROM call_leases WHERE user_id = ? AND expires_ms <= ?", (user_id, now_ms)
        )
        return max(cur.rowcount, 0)

    def release(self, user_id: str, lease_id: str) -> None:
        with self._store._transaction() as conn:
            cur = conn.execute("DELETE FROM call_leases WHERE lease_id = ?", (lease_id,))
            if cur.rowcount > 0:
                conn.execute(
                    "UPDATE user_limits SET in_flight = max(in_flight - 1, 0) WHERE user_id = ?",
                    (user_id,),
                )

    def usage(self, user_id: str | None, *, now_ms: int, day: int, window_ms: int) -> list[Usage]:
        sql = f"SELECT user_id, {_LIMIT_COLUMNS} FROM user_limits"
        params: tuple[Any, ...] = ()
        if user_id is not None:
            sql += " WHERE user_id = ?"
            params = (user_id,)
        rows = self._store._fetch(sql + " ORDER BY user_id", params)
        return [
            _usage(row[0], row[1:], now_ms=now_ms, day=day, window_ms=window_ms) for row in rows
        ]

    def reset_usage(self) -> None:
        with self._store._transaction() as conn:
            conn.execute("DELETE FROM call_leases")
            conn.execute(
                "UPDATE user_limits SET day = 0, day_calls = 0, recent = x'', in_flight = 0,"
                " rejected_quota = 0, rejected_rate = 0, rejected_concurrency = 0"
            )


def _usage(user_id: str, row: Sequence[Any], *, now_ms: int, day: int, window_ms: int) -> Usage:
    overrides = _overrides(row)
    window = overrides.rate_window_ms or window_ms
    same_day = row[4] == day
    return Usage(
        user_id=user_id,
        overrides=overrides,
        day_calls=row[5] if same_day else 0,
        window_calls=sum(1 for t in _unpack(row[6]) if t > now_ms - window),
        in_flight=row[7],
        rejects=dict(zip(LIMIT_CODES, row[8:11], strict=True)) if same_day else {},
    )


def _rule_params(rule: FaultRule) -> tuple[Any, ...]:
    return (
        rule.operation,
        rule.user_id,
        rule.code,
        rule.drop,
        rule.status,
        rule.delay_ms,
        rule.probability,
        rule.times,
        rule.seed,
    )


class SQLiteFaults(FaultStore):
    def __init__(self, store: _Transactional) -> None:
        self._store = store

    def add(self, rules: Sequence[FaultRule], *, replace: bool = False) -> list[FaultRule]:
        added: list[int] = []
        with self._store._transaction() as conn:
            if replace:
                conn.execute("DELETE FROM fault_rules")
            for rule in rules:
                cur = conn.execute(
                    "INSERT INTO fault_rules (operation, user_id, code, drop_when, status,"
                    " delay_ms, probability, times, seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _rule_params(rule),
                )
                added.append(int(cur.lastrowid or 0))
            rows = self._select(conn, added)
        return rows

    @staticmethod
    def _select(conn: sqlite3.Connection, ids: Sequence[int]) -> list[FaultRule]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT {RULE_COLUMNS} FROM fault_rules WHERE id IN ({marks}) ORDER BY id",
            tuple(ids),
        ).fetchall()
        return [row_to_rule(row) for row in rows]

    def rules(self) -> list[FaultRule]:
        rows = self._store._fetch(f"SELECT {RULE_COLUMNS} FROM fault_rules ORDER BY id")
        return [row_to_rule(row) for row in rows]

    def remove(self, rule_id: int | None = None) -> int:
        with self._store._transaction() as conn:
            if rule_id is None:
                cur = conn.execute("DELETE FROM fault_rules")
            else:
                cur = conn.execute("DELETE FROM fault_rules WHERE id = ?", (rule_id,))
            return max(cur.rowcount, 0)

    def fire(self, user_id: str, operation: str, choose: FaultChooser) -> list[FaultRule]:
        with self._store._transaction() as conn:
            rows = conn.execute(
                f"UPDATE fault_rules SET matched = matched + 1"
                " WHERE (operation IS NULL OR operation = ?) AND (user_id IS NULL OR user_id = ?)"
                f" AND (times IS NULL OR fired < times) RETURNING {RULE_COLUMNS}",
                (operation, user_id),
            ).fetchall()
            if not rows:
                return []
            candidates = sorted((row_to_rule(row) for row in rows), key=lambda r: r.id)
            chosen = set(choose([(rule, rule.matched) for rule in candidates]))
            fired = [rule for rule in candidates if rule.id in chosen]
            if fired:
                conn.executemany(
                    "UPDATE fault_rules SET fired = fired + 1 WHERE id = ?",
                    [(rule.id,) for rule in fired],
                )
        return fired


def reset_leads(store: _Transactional) -> int:
    """Empty leads and everything hanging off them; returns how many leads there were."""
    with store._transaction() as conn:
        count = int(conn.execute("SELECT count(*) FROM leads").fetchone()[0])
        for table in _LEAD_TABLES:
            conn.execute(f"DELETE FROM {table}")
    return count


#: Children before parents. Users, fields and static lists themselves stay.
_LEAD_TABLES = ("list_members", "activities", "merged_leads", "leads")
