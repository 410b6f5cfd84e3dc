"""PostgreSQL storage for the lead API beyond syncing: paged reads, activities, lists, merges.

Mixed into the reader and writer of ``leadsync.store.postgres``; the row helpers are looked
up there at call time, so the two modules can import each other.

Activity ids are stream positions (getLeadChanges resumes after ``ID:n``), so they must
become visible in id order even with several writers: ``record_activities`` takes one
transaction-scoped lock before it draws ids, which orders the tail of concurrent writes
from there to their commit. Callers record activities as the last step of a write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from leadsync.clock import SYSTEM_CLOCK
from leadsync.model import Activity, Lead, StaticList
from leadsync.store.base import ActivityQuery, AlreadyExists, LeadQuery, list_name_key

if TYPE_CHECKING:
    from leadsync.store.postgres import Conn

_ACTIVITY_COLUMNS = "id, lead_id, type, created_at, asset_name, campaign, attrs"


def _row_to_activity(row: tuple[Any, ...]) -> Activity:
    return Activity(
        id=row[0],
        lead_id=row[1],
        type=row[2],
        created_at=row[3].astimezone(UTC),
        asset_name=row[4],
        campaign=row[5],
        attributes=tuple((name, value) for name, value in row[6]),
    )


def _lead_filters(query: LeadQuery) -> tuple[str, list[Any]]:
    clauses = ["l.id > %s"]
    params: list[Any] = [query.after_id]
    if query.updated_from is not None:
        clauses.append("l.updated_at >= %s")
        params.append(base._utc(query.updated_from))
    if query.updated_to is not None:
        clauses.append("l.updated_at <= %s")
        params.append(base._utc(query.updated_to))
    if query.list_id is not None:
        clauses.append("m.list_id = %s")
        params.append(query.list_id)
    return " AND ".join(clauses), params


def _lead_source(query: LeadQuery) -> str:
    if query.list_id is None:
        return "leads l"
    return "list_members m JOIN leads l ON l.id = m.lead_id"


def _activity_filters(query: ActivityQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.lead_ids is not None:
        clauses.append("lead_id = ANY(%s::bigint[])")
        params.append(list(query.lead_ids))
    if query.list_id is not None:
        clauses.append("lead_id IN (SELECT lead_id FROM list_members WHERE list_id = %s)")
        params.append(query.list_id)
    if query.types is not None:
        clauses.append("type = ANY(%s::text[])")
        params.append(sorted(query.types))
    if query.exclude_types:
        clauses.append("NOT (type = ANY(%s::text[]))")
        params.append(sorted(query.exclude_types))
    if query.created_from is not None:
        clauses.append("created_at >= %s")
        params.append(base._utc(query.created_from))
    if query.created_to is not None:
        clauses.append("created_at <= %s")
        params.append(base._utc(query.created_to))
    if query.after_id is not None:
        clauses.append("id > %s")
        params.append(query.after_id)
    if query.before_id is not None:
        clauses.append("id < %s")
        params.append(query.before_id)
    return (" AND ".join(clauses) or "TRUE"), params


def _count(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


class LeadApiReads:
    conn: Conn

    def leads_by_email(self, email_keys: Iterable[str]) -> dict[str, list[Lead]]:
        found: dict[str, list[Lead]] = {}
        rows = self.conn.execute(
            f"SELECT {base._LEAD_COLUMNS}, email_key FROM leads"
            " WHERE email_key = ANY(%s::text[]) ORDER BY id DESC",
            (sorted(set(email_keys)),),
        ).fetchall()
        for row in rows:
            found.setdefault(row[8], []).append(base._row_to_lead(row))
        return found

    def count_leads_page(self, query: LeadQuery) -> int:
        where, params = _lead_filters(query)
        return _count(
            self.conn, f"SELECT count(*) FROM {_lead_source(query)} WHERE {where}", params
        )

    def leads_page(self, query: LeadQuery, limit: int) -> list[Lead]:
        where, params = _lead_filters(query)
        rows = self.conn.execute(
            f"SELECT {base._L_LEAD_COLUMNS} FROM {_lead_source(query)} WHERE {where}"
            " ORDER BY l.id LIMIT %s",
            (*params, limit),
        ).fetchall()
        return [base._row_to_lead(row) for row in rows]

    def static_list(
        self, *, name: str | None = None, list_id: int | None = None
    ) -> StaticList | None:
        key: list[Any]
        if list_id is not None:
            if not base._INT8_MIN <= list_id <= base._INT8_MAX:
                return None
            where, key = "id = %s", [list_id]
        elif name is not None:
            where, key = "name_key = %s", [list_name_key(name)]
        else:
            return None
        row = self.conn.execute(
            f"SELECT id, name, created_at FROM static_lists WHERE {where}", key
        ).fetchone()
        return StaticList(row[0], row[1], row[2].astimezone(UTC)) if row else None

    def list_members(self, list_id: int, lead_ids: Iterable[int]) -> set[int]:
        wanted = sorted({i for i in lead_ids if base._INT8_MIN <= i <= base._INT8_MAX})
        if not wanted:
            return set()
        rows = self.conn.execute(
            "SELECT lead_id FROM list_members WHERE list_id = %s AND lead_id = ANY(%s::bigint[])",
            (list_id, wanted),
        ).fetchall()
        return {int(r[0]) for r in rows}

    def memberships(self, lead_id: int) -> list[tuple[int, datetime]]:
        rows = self.conn.execute(
            "SELECT list_id, added_at FROM list_members WHERE lead_id = %s ORDER BY list_id",
            (lead_id,),
        ).fetchall()
        return [(int(r[0]), base._utc(r[1])) for r in rows]

    def activities(self, query: ActivityQuery, limit: int) -> list[Activity]:
        where, params = _activity_filters(query)
        order = "id DESC" if query.newest_first else "id"
        rows = self.conn.execute(
            f"SELECT {_ACTIVITY_COLUMNS} FROM activities WHERE {where} ORDER BY {order} LIMIT %s",
            (*params, limit),
        ).fetchall()
        return [_row_to_activity(row) for row in rows]

    def count_activities(self, query: ActivityQuery) -> int:
        where, params = _activity_filters(query)
        return _count(self.conn, f"SELECT count(*) FROM activities WHERE {where}", params)


class LeadApiWrites(LeadApiReads):
    def record_activities(self, activities: Sequence[Activity]) -> None:
        if not activities:
            return
        # Everything is encoded before the lock: under it, the database only draws ids and
        # inserts, so concurrent writers wait for each other as briefly as possible.
        rows = orjson.dumps(
            [
                [
                    a.lead_id,
                    a.type,
                    base._utc(a.created_at).isoformat(),
                    a.asset_name,
                    a.campaign,
                    a.attributes,
                ]
                for a in activities
            ]
        ).decode()
        lock = base._lock_id("activities", "append")
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        self.conn.execute(
            "INSERT INTO activities (lead_id, type, created_at, asset_name, campaign, attrs)"
            " SELECT (r->>0)::bigint, r->>1, (r->>2)::timestamptz, r->>3, r->>4, r->5"
            " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e(r, n) ORDER BY n",
            (rows,),
        )

    def add_list_members(self, list_id: int, lead_ids: Sequence[int], at: datetime) -> list[int]:
        wanted = list(dict.fromkeys(lead_ids))
        if not wanted:
            return []
        rows = self.conn.execute(
            "INSERT INTO list_members (list_id, lead_id, added_at)"
            " SELECT %s, u.id, %s FROM unnest(%s::bigint[]) AS u(id) ORDER BY u.id"
            " ON CONFLICT DO NOTHING RETURNING lead_id",
            (list_id, base._utc(at), wanted),
        ).fetchall()
        added = {int(r[0]) for r in rows}
        return [i for i in wanted if i in added]

    def remove_list_members(self, list_id: int, lead_ids: Sequence[int]) -> list[int]:
        wanted = list(dict.fromkeys(lead_ids))
        if not wanted:
            return []
        rows = self.conn.execute(
            "DELETE FROM list_members WHERE list_id = %s AND lead_id = ANY(%s::bigint[])"
            " RETURNING lead_id",
            (list_id, wanted),
        ).fetchall()
        removed = {int(r[0]) for r in rows}
        return [i for i in wanted if i in removed]

    def delete_leads(self, lead_ids: Sequence[int]) -> list[int]:
        wanted = [i for i in dict.fromkeys(lead_ids) if base._INT8_MIN <= i <= base._INT8_MAX]
        if not wanted:
            return []
        rows = self.conn.execute(
            "DELETE FROM leads WHERE id = ANY(%s::bigint[]) RETURNING id", (sorted(wanted),)
        ).fetchall()
        deleted = {int(r[0]) for r in rows}
        return [i for i in wanted if i in deleted]

    def merge_leads(self, winner: Lead, loser_ids: Sequence[int], at: datetime) -> None:
        losers = sorted(set(loser_ids))
        self.conn.execute(
            "UPDATE activities SET lead_id = %s WHERE lead_id = ANY(%s::bigint[])",
            (winner.id, losers),
        )
        self.conn.execute(
            "INSERT INTO list_members (list_id, lead_id, added_at)"
            " SELECT list_id, %s, min(added_at) FROM list_members"
            " WHERE lead_id = ANY(%s::bigint[]) GROUP BY list_id ON CONFLICT DO NOTHING",
            (winner.id, losers),
        )
        # Deleting first frees the losers' unique keys (foreign id, cookie) for the winner.
        self.conn.execute("DELETE FROM leads WHERE id = ANY(%s::bigint[])", (losers,))
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO merged_leads (loser_id, winner_id, merged_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (loser_id) DO UPDATE"
                " SET winner_id = EXCLUDED.winner_id, merged_at = EXCLUDED.merged_at",
                [(loser, winner.id, base._utc(at)) for loser in losers],
            )
            cur.execute(
                "UPDATE leads SET email = %s, email_key = %s, fsp_id = %s, fsp_type = %s,"
                " cookie = %s, attrs = %s::jsonb, updated_at = %s WHERE id = %s",
                (*base._lead_params(winner)[1:7], base._utc(winner.updated_at), winner.id),
            )


# -- store-level administration -----------------------------------------------------------
def add_static_list(conn: Conn, name: str) -> StaticList:
    created = SYSTEM_CLOCK.now()
    row = conn.execute(
        "INSERT INTO static_lists (name, name_key, created_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (name_key) DO NOTHING RETURNING id",
        (name, list_name_key(name), created),
    ).fetchone()
    if row is None:
        raise AlreadyExists(f"list {name!r} exists already")
    return StaticList(int(row[0]), name, created)


def static_lists(rows: Sequence[tuple[Any, ...]]) -> list[StaticList]:
    return [StaticList(int(r[0]), r[1], r[2].astimezone(UTC), int(r[3])) for r in rows]


STATIC_LISTS_SQL = (
    "SELECT s.id, s.name, s.created_at,"
    " (SELECT count(*) FROM list_members m WHERE m.list_id = s.id)"
    " FROM static_lists s ORDER BY s.name_key, s.id"
)


# Last, so that either module may be imported first: the backend imports this one at
# its top, and this one only needs the backend's helpers when a method runs.
from leadsync.store import postgres as base  # noqa: E402
