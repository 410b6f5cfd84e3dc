"""SQLite storage for call limits, usage counts and fault rules.

Every admission is one ``BEGIN IMMEDIATE`` transaction on the store's writer, which holds the
database's single write lock: processes sharing the file take turns, so counts are exact.
What the transaction writes is decided by ``leadsync.limits.admission``, never here.
"""

from __future__ import annotations

import sqlite3
import sys
from array import array
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from leadsync.store.control import (
    LIMIT_FIELDS,
    RULE_COLUMNS,
    Counters,
    CounterState,
    Decide,
    FaultChooser,
    FaultRule,
    FaultStore,
    Lease,
    LimitStore,
    LimitValues,
    UnknownUser,
    Usage,
    UsageCount,
    row_to_rule,
    usage_from_row,
    usage_values,
)
from leadsync.store.handles import SQLiteHandle
from leadsync.store.usage_batch import UsageBatch

T = TypeVar("T")


_OVERRIDE_COLUMNS = "daily_quota, rate_calls, rate_window_ms, concurrency"


def _unpack(blob: bytes) -> tuple[int, ...]:
    times = array("q")
    times.frombytes(blob)
    if _BIG_ENDIAN:
        times.byteswap()
    return tuple(times)


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

_COUNT_USAGE = """
INSERT INTO call_usage (user_id, day, calls, records, rejected_quota, rejected_rate,
                        rejected_concurrency)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (user_id, day) DO UPDATE SET
    calls = calls + excluded.calls,
    records = records + excluded.records,
    rejected_quota = rejected_quota + excluded.rejected_quota,
    rejected_rate = rejected_rate + excluded.rejected_rate,
    rejected_concurrency = rejected_concurrency + excluded.rejected_concurrency
"""

_COUNT_ERROR = """
INSERT INTO call_errors (user_id, day, code, calls) VALUES (?, ?, ?, ?)
ON CONFLICT (user_id, day, code) DO UPDATE SET calls = calls + excluded.calls
"""

_COUNT_SERVICE = """
INSERT INTO service_usage (client_id, day, calls) VALUES (?, ?, ?)
ON CONFLICT (client_id, day) DO UPDATE SET calls = calls + excluded.calls
"""

# Every API user, with its own limits, its usage that day, its counters and its leases.
_USAGE = """
SELECT a.user_id, l.daily_quota, l.rate_calls, l.rate_window_ms, l.concurrency,
       c.calls, c.records, c.rejected_quota, c.rejected_rate, c.rejected_concurrency, l.recent,
       (SELECT count(*) FROM call_leases AS x WHERE x.user_id = a.user_id)
FROM api_users AS a
LEFT JOIN user_limits AS l ON l.user_id = a.user_id
LEFT JOIN call_usage AS c ON c.user_id = a.user_id AND c.day = ?
"""


def _overrides(row: Sequence[Any]) -> LimitValues:
    return LimitValues(row[0], row[1], row[2], row[3])


class SQLiteLimits(LimitStore):
    def __init__(self, store: SQLiteHandle) -> None:
        self._store = store
        self._batch = UsageBatch(self.write_usage)

    def overrides(self, user_id: str) -> LimitValues:
        rows = self._store._fetch(
            f"SELECT {_OVERRIDE_COLUMNS} FROM user_limits WHERE user_id = ?", (user_id,)
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
                f"SELECT {_OVERRIDE_COLUMNS} FROM user_limits WHERE user_id = ?", (user_id,)
            ).fetchone()
        return _overrides(row)

    def admit(self, user_id: str, decide: Decide[T]) -> T:
        # BEGIN IMMEDIATE takes the database's write lock: every process decides in turn.
        with self._store._transaction() as conn:
            row = conn.execute(
                f"SELECT {_OVERRIDE_COLUMNS}, day, day_calls, recent FROM user_limits"
                " WHERE user_id = ?",
                (user_id,),
            ).fetchone()
            leases = conn.execute(
                "SELECT lease_id, owner, expires_ms FROM call_leases WHERE user_id = ?",
                (user_id,),
            ).fetchall()
            state = CounterState(
                overrides=_overrides(row) if row else LimitValues(),
                counters=Counters(row[4], row[5], _unpack(row[6])) if row else Counters(),
                leases=tuple(Lease(*lease) for lease in leases),
            )
            answer, write = decide(state)
            if write is None:
                return answer
            counters = write.counters
            conn.execute(
                "INSERT INTO user_limits (user_id, day, day_calls, recent) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET day = excluded.day,"
                " day_calls = excluded.day_calls, recent = excluded.recent",
                (user_id, counters.day, counters.day_calls, _pack(counters.recent)),
            )
            if write.reaped:
                conn.executemany(
                    "DELETE FROM call_leases WHERE lease_id = ?",
                    [(lease_id,) for lease_id in write.reaped],
                )
            if write.lease is not None:
                lease = write.lease
                conn.execute(
                    "INSERT INTO call_leases (lease_id, user_id, owner, expires_ms)"
                    " VALUES (?, ?, ?, ?)",
                    (lease.lease_id, user_id, lease.owner, lease.expires_ms),
                )
        return answer

    def release(self, lease_id: str) -> None:
        with self._store._transaction() as conn:
            conn.execute("DELETE FROM call_leases WHERE lease_id = ?", (lease_id,))

    def leases(self) -> list[Lease]:
        rows = self._store._fetch(
            "SELECT lease_id, owner, expires_ms FROM call_leases ORDER BY lease_id"
        )
        return [Lease(*row) for row in rows]

    def reap(self, lease_ids: Sequence[str]) -> int:
        if not lease_ids:
            return 0
        with self._store._transaction() as conn:
            gone = 0
            for lease_id in lease_ids:
                cur = conn.execute("DELETE FROM call_leases WHERE lease_id = ?", (lease_id,))
                gone += max(cur.rowcount, 0)
        return gone

    def write_usage(self, counts: Sequence[UsageCount], *, release: str | None = None) -> None:
        with self._store._transaction() as conn:
            if release is not None:
                conn.execute("DELETE FROM call_leases WHERE lease_id = ?", (release,))
            conn.executemany(_COUNT_USAGE, [usage_values(count) for count in counts])
            errors = [(c.user_id, c.day, c.error, c.times) for c in counts if c.error]
            if errors:
                conn.executemany(_COUNT_ERROR, errors)
            services = [(c.service, c.day, c.calls) for c in counts if c.service and c.calls]
            if services:
                conn.executemany(_COUNT_SERVICE, services)

    def usage(self, user_id: str | None, *, now_ms: int, day: int, window_ms: int) -> list[Usage]:
        self.flush_usage()
        sql = _USAGE
        params: tuple[Any, ...] = (day,)
        if user_id is not None:
            sql += " WHERE a.user_id = ?"
            params = (day, user_id)
        rows = self._store._fetch(sql + " ORDER BY a.user_id", params)
        return [
            usage_from_row(row, _unpack(row[10] or b""), now_ms=now_ms, window_ms=window_ms)
            for row in rows
        ]

    def error_counts(self, user_id: str, day: int) -> dict[int, int]:
        self.flush_usage()
        rows = self._store._fetch(
            "SELECT code, calls FROM call_errors WHERE user_id = ? AND day = ?", (user_id, day)
        )
        return {int(code): int(calls) for code, calls in rows}

    def service_calls(self, day: int) -> dict[str, int]:
        self.flush_usage()
        rows = self._store._fetch(
            "SELECT client_id, calls FROM service_usage WHERE day = ?", (day,)
        )
        return {client_id: int(calls) for client_id, calls in rows}

    def reset_usage(self) -> None:
        self.flush_usage()
        with self._store._transaction() as conn:
            conn.execute("DELETE FROM call_leases")
            conn.execute("DELETE FROM call_usage")
            conn.execute("DELETE FROM call_errors")
            conn.execute("DELETE FROM service_usage")
            conn.execute("UPDATE user_limits SET day = 0, day_calls = 0, recent = x''")


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
    def __init__(self, store: SQLiteHandle) -> None:
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


def reset_leads(store: SQLiteHandle) -> int:
    """Empty leads and everything hanging off them; returns how many leads there were."""
    with store._transaction() as conn:
        count = int(conn.execute("SELECT count(*) FROM leads").fetchone()[0])
        for table in _LEAD_TABLES:
            conn.execute(f"DELETE FROM {table}")
    return count


#: Children before parents. Users, fields and static lists themselves stay.
_LEAD_TABLES = ("list_members", "activities", "merged_leads", "leads")
