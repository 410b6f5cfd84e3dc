"""PostgreSQL storage for call limits and fault rules.

Admitting a call is one statement, in autocommit: an ``INSERT ... ON CONFLICT DO UPDATE`` on
the user's row of ``limit_usage``, which locks that row and always works on its newest
version, so calls from any number of processes are counted one after the other. The
statement decides the verdict, updates every counter and, through a second CTE, takes the
concurrency lease. Ending a lease is one more statement. Both touch unlogged tables only,
so neither waits for a WAL flush (see migrations/postgres/0003_limits.sql).

Locks are always taken lease rows first, then the user's row (ending a lease, reaping), or
the user's row alone (admitting): no two statements can wait for each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeAlias

import psycopg
from psycopg.rows import TupleRow

from leadsync.store.control import (
    CONCURRENCY_CODE,
    LIMIT_CODES,
    LIMIT_FIELDS,
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

Conn: TypeAlias = psycopg.Connection[TupleRow]
Row: TypeAlias = tuple[Any, ...]
_WRITE_BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
#: The verdict of an admission that found expired leases in the way: reap, then ask again.
_REAP_FIRST = -1


class _Pooled(Protocol):
    def _fetch(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[Row]: ...

    def _transaction(self, begin: str) -> AbstractContextManager[Conn]: ...


# o: the limits that apply (the user's own over the server's), always one row. The upsert
# then works on the user's counters as they stand (u.*): those of another day count as 0 and
# recent keeps only the calls inside the window. OFFSET 0 keeps the planner from pulling s
# up into its users, which would compute the window once per mention instead of once.
_ADMIT = """
WITH o AS (
    SELECT COALESCE(l.daily_quota, %(quota)s) AS q,
           COALESCE(l.rate_calls, %(rate)s) AS r,
           COALESCE(l.rate_window_ms, %(window)s) AS w,
           COALESCE(l.concurrency, %(conc)s) AS c
    FROM (SELECT 1) AS one LEFT JOIN user_limits AS l ON l.user_id = %(user)s
),
up AS (
    INSERT INTO limit_usage AS u (user_id, day, day_calls, recent, in_flight, last_code)
    SELECT %(user)s, %(day)s, 1,
           CASE WHEN o.r > 0 THEN ARRAY[%(now)s::bigint] ELSE '{}'::bigint[] END,
           (o.c > 0)::int, 0
    FROM o
    ON CONFLICT (user_id) DO UPDATE SET
        (day, day_calls, recent, in_flight,
         rejected_quota, rejected_rate, rejected_concurrency, last_code) = (
        SELECT %(day)s,
               s.day_calls + (v.code = 0)::int,
               CASE WHEN v.code = 0 AND s.r > 0
                    THEN (s.live || %(now)s::bigint)[greatest(cardinality(s.live) + 2 - s.r, 1):]
                    ELSE s.live END,
               u.in_flight + (v.code = 0 AND s.c > 0)::int,
               s.rq + (v.code = 20015)::int,
               s.rr + (v.code = 20023)::int,
               s.rc + (v.code = 20024)::int,
               v.code
        FROM (SELECT o.q, o.r, o.c,
                     CASE WHEN u.day = %(day)s THEN u.day_calls ELSE 0 END AS day_calls,
                     CASE WHEN o.r > 0
                          THEN ARRAY(SELECT t FROM unnest(u.recent) AS t
                                     WHERE t > %(now)s::bigint - o.w ORDER BY t)
                          ELSE '{}'::bigint[] END AS live,
                     CASE WHEN u.day = %(day)s THEN u.rejected_quota ELSE 0 END AS rq,
                     CASE WHEN u.day = %(day)s THEN u.rejected_rate ELSE 0 END AS rr,
                     CASE WHEN u.day = %(day)s THEN u.rejected_concurrency ELSE 0 END AS rc
              FROM o OFFSET 0) AS s,
             LATERAL (SELECT CASE
                WHEN s.q > 0 AND s.day_calls >= s.q THEN 20015
                WHEN s.r > 0 AND cardinality(s.live) >= s.r THEN 20023
                WHEN s.c > 0 AND u.in_flight >= s.c THEN
                    CASE WHEN EXISTS (SELECT 1 FROM call_leases AS l
                                      WHERE l.user_id = u.user_id AND l.expires_ms <= %(now)s)
                         THEN -1 ELSE 20024 END
                ELSE 0 END AS code) AS v)
    RETURNING u.last_code, u.day_calls, cardinality(u.recent), u.in_flight, u.recent[1]
),
lease AS (
    INSERT INTO call_leases (lease_id, user_id, expires_ms)
    SELECT %(lease)s, %(user)s, %(expires)s FROM up, o WHERE up.last_code = 0 AND o.c > 0
)
SELECT up.*, o.q, o.r, o.w, o.c FROM up, o
"""

_RELEASE = """
WITH gone AS (DELETE FROM call_leases WHERE lease_id = %s RETURNING user_id)
UPDATE limit_usage SET in_flight = greatest(in_flight - 1, 0)
WHERE user_id IN (SELECT user_id FROM gone)
"""

_REAP = """
WITH gone AS (
    DELETE FROM call_leases WHERE user_id = %(user)s AND expires_ms <= %(now)s RETURNING 1
)
UPDATE limit_usage SET in_flight = greatest(in_flight - (SELECT count(*) FROM gone), 0)
WHERE user_id = %(user)s
"""

_USAGE = """
SELECT user_id, l.daily_quota, l.rate_calls, l.rate_window_ms, l.concurrency,
       u.day, u.day_calls, u.recent, u.in_flight,
       u.rejected_quota, u.rejected_rate, u.rejected_concurrency
FROM user_limits AS l FULL JOIN limit_usage AS u USING (user_id)
"""


def _overrides(row: Sequence[Any]) -> LimitValues:
    return LimitValues(row[0], row[1], row[2], row[3])


class PostgresLimits(LimitStore):
    def __init__(self, store: _Pooled) -> None:
        self._store = store

    def overrides(self, user_id: str) -> LimitValues:
        rows = self._store._fetch(
            "SELECT daily_quota, rate_calls, rate_window_ms, concurrency"
            " FROM user_limits WHERE user_id = %s",
            (user_id,),
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
                "SELECT daily_quota, rate_calls, rate_window_ms, concurrency"
                " FROM user_limits WHERE user_id = %s",
                (user_id,),
            ).fetchone()
        assert row is not None
        return _overrides(row)

    def admit(self, request: AdmissionRequest) -> Admission:
        defaults = request.defaults
        params = {
            "user": request.user_id,
            "day": request.day,
            "now": request.now_ms,
            "quota": defaults.daily_quota or 0,
            "rate": defaults.rate_calls or 0,
            "window": defaults.rate_window_ms or 0,
            "conc": defaults.concurrency or 0,
            "lease": request.lease_id,
            "expires": request.lease_expires_ms,
        }
        for _attempt in range(3):
            [row] = self._store._fetch(_ADMIT, params)
            if row[0] != _REAP_FIRST:
                break
            self._store._fetch(_REAP, {"user": request.user_id, "now": request.now_ms})
        code, day_calls, window_calls, in_flight, oldest, *effective = row
        if code == _REAP_FIRST:
            # Leases keep expiring under us; the slots are taken all the same.
            code = CONCURRENCY_CODE
        limits = LimitValues(*effective)
        leased = code == 0 and bool(limits.concurrency)
        retry_at = oldest + (limits.rate_window_ms or 0) if code == RATE_CODE and oldest else 0
        return Admission(code, limits, day_calls, window_calls, in_flight, leased, retry_at)

    def release(self, user_id: str, lease_id: str) -> None:
        self._store._fetch(_RELEASE, (lease_id,))

    def usage(self, user_id: str | None, *, now_ms: int, day: int, window_ms: int) -> list[Usage]:
        sql = _USAGE
        params: tuple[Any, ...] = ()
        if user_id is not None:
            sql += " WHERE user_id = %s"
            params = (user_id,)
        rows = self._store._fetch(sql + " ORDER BY user_id", params)
        return [_usage(row, now_ms=now_ms, day=day, window_ms=window_ms) for row in rows]

    def reset_usage(self) -> None:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute("DELETE FROM call_leases")
            conn.execute(
                "UPDATE limit_usage SET day = 0, day_calls = 0, recent = '{}', in_flight = 0,"
                " rejected_quota = 0, rejected_rate = 0, rejected_concurrency = 0, last_code = 0"
            )


def _usage(row: Sequence[Any], *, now_ms: int, day: int, window_ms: int) -> Usage:
    overrides = _overrides(row[1:5])
    window = overrides.rate_window_ms or window_ms
    same_day = row[5] == day
    return Usage(
        user_id=row[0],
        overrides=overrides,
        day_calls=row[6] if same_day else 0,
        window_calls=sum(1 for t in row[7] or () if t > now_ms - window),
        in_flight=row[8] or 0,
        rejects=dict(zip(LIMIT_CODES, row[9:12], strict=True)) if same_day else {},
    )


class PostgresFaults(FaultStore):
    def __init__(self, store: _Pooled) -> None:
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


def reset_leads(store: _Pooled) -> int:
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
