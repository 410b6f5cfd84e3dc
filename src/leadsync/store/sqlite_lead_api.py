"""SQLite storage for the lead API beyond syncing: paged reads, activities, lists, merges.

Mixed into the reader and writer of ``leadsync.store.sqlite``; the row helpers are looked
up there at call time, so the two modules can import each other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson

from leadsync.model import Activity, Lead, StaticList
from leadsync.store.base import (
    ActivityQuery,
    AlreadyExists,
    LeadQuery,
    iter_chunks,
    list_name_key,
)
from leadsync.store.sqlite_rows import JsonInsert

_ACTIVITY_COLUMNS = "id, lead_id, type, created_at, asset_name, campaign, attrs"
_INSERT_ACTIVITIES = JsonInsert(
    "activities", ("lead_id", "type", "created_at", "asset_name", "campaign", "attrs")
)
#: Walk the update-time index rather than the ids when the matching leads are this sparse:
#: reading W index entries beats reading limit * span / W rows once W^2 < _SPARSE * limit * span.
_SPARSE = 4


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _row_to_activity(row: tuple[Any, ...]) -> Activity:
    return Activity(
        id=row[0],
        lead_id=row[1],
        type=row[2],
        created_at=base.from_us(row[3]),
        asset_name=row[4],
        campaign=row[5],
        attributes=tuple((name, value) for name, value in orjson.loads(row[6])),
    )


def _lead_filters(query: LeadQuery, alias: str) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.updated_from is not None:
        clauses.append(f"{alias}.updated_at >= ?")
        params.append(base.to_us(query.updated_from))
    if query.updated_to is not None:
        clauses.append(f"{alias}.updated_at <= ?")
        params.append(base.to_us(query.updated_to))
    return clauses, params


def _activity_filters(query: ActivityQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.lead_ids is not None:
        clauses.append(f"lead_id IN ({_marks(len(query.lead_ids))})" if query.lead_ids else "0")
        params.extend(query.lead_ids)
    if query.list_id is not None:
        clauses.append("lead_id IN (SELECT lead_id FROM list_members WHERE list_id = ?)")
        params.append(query.list_id)
    if query.types is not None:
        clauses.append(f"type IN ({_marks(len(query.types))})" if query.types else "0")
        params.extend(sorted(query.types))
    if query.exclude_types:
        clauses.append(f"type NOT IN ({_marks(len(query.exclude_types))})")
        params.extend(sorted(query.exclude_types))
    if query.created_from is not None:
        clauses.append("created_at >= ?")
        params.append(base.to_us(query.created_from))
    if query.created_to is not None:
        clauses.append("created_at <= ?")
        params.append(base.to_us(query.created_to))
    if query.after_id is not None:
        clauses.append("id > ?")
        params.append(query.after_id)
    if query.before_id is not None:
        clauses.append("id < ?")
        params.append(query.before_id)
    return (" AND ".join(clauses) or "1"), params


class LeadApiReads:
    conn: sqlite3.Connection

    def leads_by_email(self, email_keys: Iterable[str]) -> dict[str, list[Lead]]:
        found: dict[str, list[Lead]] = {}
        for chunk in iter_chunks(list(set(email_keys)), base._CHUNK):
            rows = self.conn.execute(
                f"SELECT {base._LEAD_COLUMNS}, email_key FROM leads"
                f" WHERE email_key IN ({_marks(len(chunk))}) ORDER BY id DESC",
                tuple(chunk),
            )
            for row in rows:
                found.setdefault(row[8], []).append(base._row_to_lead(row))
        return found

    # -- paged leads ----------------------------------------------------------------------
    def count_leads_page(self, query: LeadQuery) -> int:
        cache: dict[LeadQuery, int] = self.__dict__.setdefault("_page_counts", {})
        if query not in cache:
            cache[query] = self._count_leads_page(query)
        return cache[query]

    def _count_leads_page(self, query: LeadQuery) -> int:
        clauses, params = _lead_filters(query, "l")
        if query.list_id is not None:
            sql = (
                "SELECT count(*) FROM list_members m JOIN leads l ON l.id = m.lead_id"
                " WHERE m.list_id = ? AND m.lead_id > ?"
            )
            params = [query.list_id, query.after_id, *params]
        else:
            sql = "SELECT count(*) FROM leads l WHERE l.id > ?"
            params = [query.after_id, *params]
        sql += "".join(f" AND {c}" for c in clauses)
        return int(self.conn.execute(sql, params).fetchone()[0])

    def leads_page(self, query: LeadQuery, limit: int) -> list[Lead]:
        clauses, params = _lead_filters(query, "l")
        extra = "".join(f" AND {c}" for c in clauses)
        columns = ", ".join(f"l.{c.strip()}" for c in base._LEAD_COLUMNS.split(","))
        if query.list_id is not None:
            rows = self.conn.execute(
                f"SELECT {columns} FROM list_members m JOIN leads l ON l.id = m.lead_id"
                f" WHERE m.list_id = ? AND m.lead_id > ?{extra} ORDER BY m.lead_id LIMIT ?",
                (query.list_id, query.after_id, *params, limit),
            ).fetchall()
        elif clauses and self._sparse(query, limit):
            # Pick the ids from the (updated_at, id) index alone, then read only those rows.
            ids = [
                r[0]
                for r in self.conn.execute(
                    f"SELECT l.id FROM leads l INDEXED BY leads_updated_at WHERE l.id > ?{extra}"
                    " ORDER BY l.id LIMIT ?",
                    (query.after_id, *params, limit),
                )
            ]
            rows = self.conn.execute(
                f"SELECT {base._LEAD_COLUMNS} FROM leads WHERE id IN ({_marks(len(ids))})"
                " ORDER BY id",
                ids,
            ).fetchall()
        else:
            rows = self.conn.execute(
                f"SELECT {columns} FROM leads l NOT INDEXED WHERE l.id > ?{extra}"
                " ORDER BY l.id LIMIT ?",
                (query.after_id, *params, limit),
            ).fetchall()
        return [base._row_to_lead(row) for row in rows]

    def _sparse(self, query: LeadQuery, limit: int) -> bool:
        remaining = self.count_leads_page(query)
        top = self.conn.execute("SELECT max(id) FROM leads").fetchone()[0] or 0
        span = max(1, top - query.after_id)
        return remaining * remaining < _SPARSE * limit * span

    # -- static lists ---------------------------------------------------------------------
    def static_list(
        self, *, name: str | None = None, list_id: int | None = None
    ) -> StaticList | None:
        if list_id is not None:
            if not -(2**63) <= list_id < 2**63:
                return None
            row = self.conn.execute(
                "SELECT id, name, created_at FROM static_lists WHERE id = ?", (list_id,)
            ).fetchone()
        elif name is not None:
            row = self.conn.execute(
                "SELECT id, name, created_at FROM static_lists WHERE name_key = ?",
                (list_name_key(name),),
            ).fetchone()
        else:
            return None
        return StaticList(row[0], row[1], base.from_us(row[2])) if row else None

    def list_members(self, list_id: int, lead_ids: Iterable[int]) -> set[int]:
        members: set[int] = set()
        for chunk in iter_chunks(list(set(lead_ids)), base._CHUNK):
            rows = self.conn.execute(
                "SELECT lead_id FROM list_members"
                f" WHERE list_id = ? AND lead_id IN ({_marks(len(chunk))})",
                (list_id, *chunk),
            )
            members.update(r[0] for r in rows)
        return members

    def memberships(self, lead_id: int) -> list[tuple[int, datetime]]:
        rows = self.conn.execute(
            "SELECT list_id, added_at FROM list_members WHERE lead_id = ? ORDER BY list_id",
            (lead_id,),
        ).fetchall()
        return [(int(r[0]), base.from_us(r[1])) for r in rows]

    # -- activities -----------------------------------------------------------------------
    def activities(self, query: ActivityQuery, limit: int) -> list[Activity]:
        query = self._with_start_hint(query)
        where, params = _activity_filters(query)
        order = "id DESC" if query.newest_first else "id"
        rows = self.conn.execute(
            f"SELECT {_ACTIVITY_COLUMNS} FROM activities WHERE {where} ORDER BY {order} LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [_row_to_activity(row) for row in rows]

    def count_activities(self, query: ActivityQuery) -> int:
        where, params = _activity_filters(self._with_start_hint(query))
        return int(
            self.conn.execute(f"SELECT count(*) FROM activities WHERE {where}", params).fetchone()[
                0
            ]
        )

    def _with_start_hint(self, query: ActivityQuery) -> ActivityQuery:
        """Turn "created since T" into "ids after the last one created before T".

        Ids and creation times grow together here (store/base.py, "Time"): a binary search
        over the primary key finds where T starts, and the walk stays on the primary key
        instead of scanning or sorting the whole history.
        """
        if query.created_from is None or query.after_id is not None or query.newest_first:
            return query
        return replace(query, after_id=self._last_id_before(base.to_us(query.created_from)))

    def _last_id_before(self, stamp: int) -> int:
        low, high = 0, self._last_activity_id()
        # Invariant: every id <= low was created before ``stamp``; none above high exists.
        while low < high:
            middle = (low + high + 1) // 2
            row = self.conn.execute(
                "SELECT created_at FROM activities WHERE id >= ? ORDER BY id LIMIT 1", (middle,)
            ).fetchone()
            if row is not None and row[0] < stamp:
                low = middle
            else:
                high = middle - 1
        return low

    def _last_activity_id(self) -> int:
        row = self.conn.execute("SELECT max(id) FROM activities").fetchone()
        return int(row[0] or 0)


class LeadApiWrites(LeadApiReads):
    def record_activities(self, activities: Sequence[Activity]) -> None:
        if not activities:
            return
        # created_at never decreases in id order, even if the wall clock stepped back since
        # the last write: the created-since lookup binary-searches on it (store/base.py).
        last = self.conn.execute(
            "SELECT created_at FROM activities ORDER BY id DESC LIMIT 1"
        ).fetchone()
        floor = last[0] if last else 0
        stamps: dict[datetime, int] = {}
        rows = []
        for a in activities:
            stamp = stamps.get(a.created_at)
            if stamp is None:
                stamp = stamps[a.created_at] = max(base.to_us(a.created_at), floor)
            rows.append((a.lead_id, a.type, stamp, a.asset_name, a.campaign, a.attributes))
        _INSERT_ACTIVITIES.run(self.conn, rows)

    def add_list_members(self, list_id: int, lead_ids: Sequence[int], at: datetime) -> list[int]:
        present = self.list_members(list_id, lead_ids)
        added = [i for i in dict.fromkeys(lead_ids) if i not in present]
        stamp = base.to_us(at)
        self.conn.executemany(
            "INSERT INTO list_members (list_id, lead_id, added_at) VALUES (?, ?, ?)",
            [(list_id, lead_id, stamp) for lead_id in added],
        )
        return added

    def remove_list_members(self, list_id: int, lead_ids: Sequence[int]) -> list[int]:
        present = self.list_members(list_id, lead_ids)
        removed = [i for i in dict.fromkeys(lead_ids) if i in present]
        self.conn.executemany(
            "DELETE FROM list_members WHERE list_id = ? AND lead_id = ?",
            [(list_id, lead_id) for lead_id in removed],
        )
        return removed

    def delete_leads(self, lead_ids: Sequence[int]) -> list[int]:
        wanted = list(dict.fromkeys(lead_ids))
        deleted: set[int] = set()
        for chunk in iter_chunks(wanted, base._CHUNK):
            rows = self.conn.execute(
                f"DELETE FROM leads WHERE id IN ({_marks(len(chunk))}) RETURNING id", chunk
            ).fetchall()
            deleted.update(int(r[0]) for r in rows)
        return [i for i in wanted if i in deleted]

    def merge_leads(self, winner: Lead, loser_ids: Sequence[int], at: datetime) -> None:
        losers = list(dict.fromkeys(loser_ids))
        marks = _marks(len(losers))
        self.conn.execute(
            f"UPDATE activities SET lead_id = ? WHERE lead_id IN ({marks})", (winner.id, *losers)
        )
        self.conn.execute(
            "INSERT OR IGNORE INTO list_members (list_id, lead_id, added_at)"
            f" SELECT list_id, ?, min(added_at) FROM list_members WHERE lead_id IN ({marks})"
            " GROUP BY list_id",
            (winner.id, *losers),
        )
        # Deleting first frees the losers' unique keys (foreign id, cookie) for the winner.
        self.conn.execute(f"DELETE FROM leads WHERE id IN ({marks})", losers)
        stamp = base.to_us(at)
        self.conn.executemany(
            "INSERT OR REPLACE INTO merged_leads (loser_id, winner_id, merged_at) VALUES (?, ?, ?)",
            [(loser, winner.id, stamp) for loser in losers],
        )
        base._UPDATE_LEADS.run(self.conn, [base._update_params(winner)])


# -- store-level administration -----------------------------------------------------------
def add_static_list(conn: sqlite3.Connection, name: str, created_us: int) -> StaticList:
    try:
        cur = conn.execute(
            "INSERT INTO static_lists (name, name_key, created_at) VALUES (?, ?, ?)",
            (name, list_name_key(name), created_us),
        )
    except sqlite3.IntegrityError as exc:
        raise AlreadyExists(f"list {name!r} exists already") from exc
    list_id = cur.lastrowid
    assert list_id is not None
    return StaticList(list_id, name, base.from_us(created_us))


def static_lists(conn: sqlite3.Connection) -> list[StaticList]:
    rows = conn.execute(
        "SELECT s.id, s.name, s.created_at,"
        " (SELECT count(*) FROM list_members m WHERE m.list_id = s.id)"
        " FROM static_lists s ORDER BY s.name_key, s.id"
    ).fetchall()
    return [StaticList(r[0], r[1], base.from_us(r[2]), r[3]) for r in rows]


# Last, so that either module may be imported first: the backend imports this one at
# its top, and this one only needs the backend's helpers when a method runs.
from leadsync.store import sqlite as base  # noqa: E402
