"""PostgreSQL storage for call limits, usage counts and fault rules.

Admitting a call reads the user's counters and leases, lets ``leadsync.limits.admission``
decide, and writes the counters and the lease in one statement that applies only if the
counters are still the version it read: two statements in autocommit. When another
admission wrote first, it decides again in a READ COMMITTED transaction that holds the row
(``SELECT ... FOR UPDATE``), so calls from any number of processes are decided one after the
other. Ending a lease and counting usage are one statement each. All of them touch
unlogged tables only, so no commit waits for a WAL flush (migrations/postgres/0003, 0007).

Locks: admitting holds the user's counter row and takes lease rows; ending a lease takes its
lease row alone. No two statements can wait for each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, TypeVar

import psycopg
from psycopg.rows import TupleRow

from leadsync.store.control import (
    LIMIT_FIELDS,
    RULE_COLUMNS,
    Counters,
    CounterState,
    CounterWrite,
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
from leadsync.store.handles import PostgresHandle
from leadsync.store.usage_batch import UsageBatch

Conn: TypeAlias = psycopg.Connection[TupleRow]
Row: TypeAlias = tuple[Any, ...]
T = TypeVar("T")
_WRITE_BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"


_OVERRIDE_COLUMNS = "daily_quota, rate_calls, rate_window_ms, concurrency"

_STATE_COLUMNS = (
    "l.daily_quota, l.rate_calls, l.rate_window_ms, l.concurrency, u.day, u.day_calls,"
    " u.recent, u.version"
)

# The user's state in one snapshot, without a lock: the counters with their version, and the
# leases (every admission writes both in one statement).
_READ = f"""
SELECT {_STATE_COLUMNS},
       (SELECT json_agg(json_build_array(c.lease_id, c.owner, c.expires_ms))
        FROM call_leases AS c WHERE c.user_id = u.user_id)
FROM limit_usage AS u LEFT JOIN user_limits AS l ON l.user_id = u.user_id
WHERE u.user_id = %s
"""

# The same, the counters locked until the transaction ends.
_LOCK = f"""
SELECT {_STATE_COLUMNS}
FROM limit_usage AS u LEFT JOIN user_limits AS l ON l.user_id = u.user_id
WHERE u.user_id = %s
FOR UPDATE OF u
"""

# A statement of its own, run once the lock is held: its snapshot then has the leases of
# every admission decided before (the locking statement's snapshot predates the wait).
_LEASES = "SELECT lease_id, owner, expires_ms FROM call_leases WHERE user_id = %s"

# Writes only if the counters are still the version the decision was made on (a concurrent
# admission that wrote first makes it write nothing: 0); the leases change with them.
_WRITE = """
WITH up AS (
    UPDATE limit_usage
    SET day = %(day)s, day_calls = %(calls)s, recent = %(recent)s, version = version + 1
    WHERE user_id = %(user)s AND version = %(version)s
    RETURNING user_id
),
gone AS (
    DELETE FROM call_leases
    WHERE lease_id = ANY(%(reaped)s::text[]) AND EXISTS (SELECT FROM up)
),
taken AS (
    INSERT INTO call_leases (lease_id, user_id, owner, expires_ms)
    SELECT %(lease)s, user_id, %(owner)s, %(expires)s FROM up WHERE %(lease)s::text IS NOT NULL
)
SELECT count(*) FROM up
"""

_COUNT_USAGE = """
INSERT INTO call_usage AS u (user_id, day, calls, records, rejected_quota, rejected_rate,
                             rejected_concurrency)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (user_id, day) DO UPDATE SET
    calls = u.calls + excluded.calls,
    records = u.records + excluded.records,
    rejected_quota = u.rejected_quota + excluded.rejected_quota,
    rejected_rate = u.rejected_rate + excluded.rejected_rate,
    rejected_concurrency = u.rejected_concurrency + excluded.rejected_concurrency
"""

_RELEASE_AND_COUNT = (
    "WITH gone AS (DELETE FROM call_leases WHERE lease_id = %s)" + _COUNT_USAGE.rstrip()
)

# Written beside the usage count, in the same statement.
_COUNT_ERROR = """errs AS (
    INSERT INTO call_errors AS e (user_id, day, code, calls) VALUES (%s, %s, %s, %s)
    ON CONFLICT (user_id, day, code) DO UPDATE SET calls = e.calls + excluded.calls
)"""
_COUNT_SERVICE = """svc AS (
    INSERT INTO service_usage AS s (client_id, day, calls) VALUES (%s, %s, %s)
    ON CONFLICT (client_id, day) DO UPDATE SET calls = s.calls + excluded.calls
)"""

# Every API user, with its own limits, its usage that day, its counters and its leases.
_USAGE = """
SELECT a.user_id, l.daily_quota, l.rate_calls, l.rate_window_ms, l.concurrency,
       c.calls, c.records, c.rejected_quota, c.rejected_rate, c.rejected_concurrency, u.recent,
       (SELECT count(*) FROM call_leases AS x WHERE x.user_id = a.user_id)
FROM api_users AS a
LEFT JOIN user_limits AS l ON l.user_id = a.user_id
LEFT JOIN limit_usage AS u ON u.user_id = a.user_id
LEFT JOIN call_usage AS c ON c.user_id = a.user_id AND c.day = %s
"""


def _overrides(row: Sequence[Any]) -> LimitValues:
    return LimitValues(row[0], row[1], row[2], row[3])


def _state(row: Sequence[Any], leases: Sequence[Sequence[Any]]) -> CounterState:
    return CounterState(
        overrides=_overrides(row),
        counters=Counters(row[4], row[5], tuple(row[6])),
        leases=tuple(Lease(*lease) for lease in leases),
    )


def _write_params(user_id: str, version: int, write: CounterWrite) -> dict[str, Any]:
    lease = write.lease
    return {
        "user": user_id,
        "version": version,
        "day": write.counters.day,
        "calls": write.counters.day_calls,
        "recent": list(write.counters.recent),
        "reaped": list(write.reaped),
        "lease": lease.lease_id if lease else None,
        "owner": lease.owner if lease else None,
        "expires": lease.expires_ms if lease else None,
    }


def _count_statement(count: UsageCount, release: str | None) -> tuple[str, tuple[Any, ...]]:
    """One statement that adds ``count`` (its errors and its service's calls with it) and
    ends the lease ``release``."""
    params = usage_values(count)
    service = bool(count.service and count.calls)
    if not (count.error or service):
        if release is None:
            return _COUNT_USAGE, params
        return _RELEASE_AND_COUNT, (release, *params)
    ctes: list[str] = []
    first: list[Any] = []
    if release is not None:
        ctes.append("gone AS (DELETE FROM call_leases WHERE lease_id = %s)")
        first.append(release)
    if count.error:
        ctes.append(_COUNT_ERROR)
        first += [count.user_id, count.day, count.error, count.times]
    if service:
        ctes.append(_COUNT_SERVICE)
        first += [count.service, count.day, count.calls]
    return "WITH " + ", ".join(ctes) + _COUNT_USAGE.rstrip(), (*first, *params)


class PostgresLimits(LimitStore):
    def __init__(self, store: PostgresHandle) -> None:
        self._store = store
        self._batch = UsageBatch(self.write_usage)

    def overrides(self, user_id: str) -> LimitValues:
        rows = self._store._fetch(
            f"SELECT {_OVERRIDE_COLUMNS} FROM user_limits WHERE user_id = %s", (user_id,)
        )
        return _overrides(rows[0]) if rows else LimitValues()

    def limited_users(self) -> frozenset[str]:
        rows = self._store._fetch(
            "SELECT user_id FROM user_limits"
            " WHERE daily_quota > 0 OR rate_calls > 0 OR concurrency > 0"
        )
        return frozenset(row[0] for row in rows)

    def update_limits(self, user_id: str, changes: Mapping[str, int | None]) -> LimitValues:
        unknown = set(changes) - set(LIMIT_FIELDS)
        if unknown:
            raise ValueError(f"unknown limits: {sorted(unknown)}")
        with self._store._transaction(_WRITE_BEGIN) as conn:
            if (
                conn.execute("SELECT 1 FROM api_users WHERE user_id = %s", (user_id,)).fetchone()
                is None
            ):
                raise UnknownUser(f"no API user {user_id!r}")
            conn.execute(
                "INSERT INTO user_limits (user_id) VALUES (%s) ON CONFLICT (user_id) DO NOTHING",
                (user_id,),
            )
            if changes:
                # The names come from LIMIT_FIELDS, never from the caller.
                assignments = ", ".join(f"{name} = %s" for name in changes)
                conn.execute(
                    f"UPDATE user_limits SET {assignments} WHERE user_id = %s",
                    (*changes.values(), user_id),
                )
            row = conn.execute(
                f"SELECT {_OVERRIDE_COLUMNS} FROM user_limits WHERE user_id = %s", (user_id,)
            ).fetchone()
        assert row is not None
        return _overrides(row)

    def admit(self, user_id: str, decide: Decide[T]) -> T:
        # Optimistically first: read, decide, and write only if no other admission of the
        # user wrote meanwhile; two statements in autocommit, and a refusal is one.
        rows = self._store._fetch(_READ, (user_id,))
        if rows:
            row = rows[0]
            answer, write = decide(_state(row, row[8] or ()))
            if write is None:
                return answer
            if self._store._fetch(_WRITE, _write_params(user_id, row[7], write))[0][0]:
                return answer
        # Another admission wrote first (or this is the user's first counted call): decide
        # again on the locked row, so that a busy user's calls queue instead of retrying.
        with self._store._transaction(_WRITE_BEGIN) as conn:
            locked, leases = self._lock(conn, user_id)
            if locked is None:
                conn.execute(
                    "INSERT INTO limit_usage (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
                    (user_id,),
                )
                locked, leases = self._lock(conn, user_id)
            if locked is None:
                raise UnknownUser(f"no API user {user_id!r}")
            answer, write = decide(_state(locked, leases))
            if write is not None:
                conn.execute(_WRITE, _write_params(user_id, locked[7], write))
        return answer

    @staticmethod
    def _lock(conn: Conn, user_id: str) -> tuple[Row | None, list[Row]]:
        # Pipelined: one round trip, the second statement run after the first got its lock.
        with conn.pipeline():
            locked = conn.execute(_LOCK, (user_id,))
            leases = conn.execute(_LEASES, (user_id,))
        return locked.fetchone(), leases.fetchall()

    def release(self, lease_id: str) -> None:
        self._store._fetch("DELETE FROM call_leases WHERE lease_id = %s", (lease_id,))

    def leases(self) -> list[Lease]:
        rows = self._store._fetch(
            "SELECT lease_id, owner, expires_ms FROM call_leases ORDER BY lease_id"
        )
        return [Lease(*row) for row in rows]

    def reap(self, lease_ids: Sequence[str]) -> int:
        if not lease_ids:
            return 0
        rows = self._store._fetch(
            "WITH gone AS (DELETE FROM call_leases WHERE lease_id = ANY(%s) RETURNING 1)"
            " SELECT count(*) FROM gone",
            (list(lease_ids),),
        )
        return int(rows[0][0])

    def write_usage(self, counts: Sequence[UsageCount], *, release: str | None = None) -> None:
        if len(counts) == 1:
            self._store._fetch(*_count_statement(counts[0], release))
            return
        with self._store._transaction(_WRITE_BEGIN) as conn:
            for index, count in enumerate(counts):
                conn.execute(*_count_statement(count, release if index == 0 else None))

    def error_counts(self, user_id: str, day: int) -> dict[int, int]:
        self.flush_usage()
        rows = self._store._fetch(
            "SELECT code, calls FROM call_errors WHERE user_id = %s AND day = %s", (user_id, day)
        )
        return {int(code): int(calls) for code, calls in rows}

    def service_calls(self, day: int) -> dict[str, int]:
        self.flush_usage()
        rows = self._store._fetch(
            "SELECT client_id, calls FROM service_usage WHERE day = %s", (day,)
        )
        return {client_id: int(calls) for client_id, calls in rows}

    def usage(self, user_id: str | None, *, now_ms: int, day: int, window_ms: int) -> list[Usage]:
        self.flush_usage()
        sql = _USAGE
        params: tuple[Any, ...] = (day,)
        if user_id is not None:
            sql += " WHERE a.user_id = %s"
            params = (day, user_id)
        rows = self._store._fetch(sql + " ORDER BY a.user_id", params)
        return [
            usage_from_row(row, row[10] or (), now_ms=now_ms, window_ms=window_ms) for row in rows
        ]

    def reset_usage(self) -> None:
        self.flush_usage()
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute("DELETE FROM call_leases")
            conn.execute("DELETE FROM call_usage")
            conn.execute("DELETE FROM call_errors")
            conn.execute("DELETE FROM service_usage")
            conn.execute("UPDATE limit_usage SET day = 0, day_calls = 0, recent = '{}'")


class PostgresFaults(FaultStore):
    def __init__(self, store: PostgresHandle) -> None:
        self._store = store

    def add(self, rules: Sequence[FaultRule], *, replace: bool = False) -> list[FaultRule]:
        added: list[FaultRule] = []
        with self._store._transaction(_WRITE_BEGIN) as conn:
            if replace:
                conn.execute("DELETE FROM fault_rules")
            for rule in rules:
                row = conn.execute(
                    "INSERT INTO fault_rules (operation, user_id, code, drop_when, status,"
                    " delay_ms, probability, times, seed)"
                    f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {RULE_COLUMNS}",
                    (
                        rule.operation,
                        rule.user_id,
                        rule.code,
                        rule.drop,
                        rule.status,
                        rule.delay_ms,
                        rule.probability,
                        rule.times,
                        rule.seed,
                    ),
                ).fetchone()
                assert row is not None
                added.append(row_to_rule(row))
        return added

    def rules(self) -> list[FaultRule]:
        rows = self._store._fetch(f"SELECT {RULE_COLUMNS} FROM fault_rules ORDER BY id")
        return [row_to_rule(row) for row in rows]

    def remove(self, rule_id: int | None = None) -> int:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            if rule_id is None:
                cur = conn.execute("DELETE FROM fault_rules")
            else:
                cur = conn.execute("DELETE FROM fault_rules WHERE id = %s", (rule_id,))
            return max(cur.rowcount, 0)

    def fire(self, user_id: str, operation: str, choose: FaultChooser) -> list[FaultRule]:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            # Locked in id order, so that concurrent calls matching several rules queue up
            # rather than deadlock; the locks hold until the fired counts are written.
            rows = conn.execute(
                f"UPDATE fault_rules SET matched = matched + 1 WHERE id IN ("
                " SELECT id FROM fault_rules"
                " WHERE (operation IS NULL OR operation = %s) AND (user_id IS NULL OR user_id = %s)"
                " AND (times IS NULL OR fired < times) ORDER BY id FOR UPDATE)"
                f" RETURNING {RULE_COLUMNS}",
                (operation, user_id),
            ).fetchall()
            if not rows:
                return []
            candidates = sorted((row_to_rule(row) for row in rows), key=lambda r: r.id)
            chosen = set(choose([(rule, rule.matched) for rule in candidates]))
            fired = [rule for rule in candidates if rule.id in chosen]
            if fired:
                conn.execute(
                    "UPDATE fault_rules SET fired = fired + 1 WHERE id = ANY(%s)",
                    ([rule.id for rule in fired],),
                )
        return fired


#: Children before parents; a table the schema does not have yet is skipped.
_LEAD_TABLES = ("list_members", "activities", "merged_leads", "leads")


def reset_leads(store: PostgresHandle) -> int:
    """Empty leads and everything hanging off them; returns how many leads there were."""
    deleted = 0
    with store._transaction(_WRITE_BEGIN) as conn:
        for table in _LEAD_TABLES:
            found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
            if found and found[0]:
                cur = conn.execute(f"DELETE FROM {table}")
                if table == "leads":
                    deleted = max(cur.rowcount, 0)
    return deleted
