"""The storage contract for the web console (docs/console.md): its users, the key that signs
its sessions, and the reads its pages make that the API's reads do not cover.

Lead searches page by id (keyset paging): a page continues after (or, newest first, below) the
last id the previous page showed, so page 1,000 costs what page 1 does.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadsync.model import Lead
from leadsync.store.base import email_key


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    name: str
    password_hash: str
    created_ms: int


@dataclass(frozen=True, slots=True)
class LeadSearch:
    """Leads matching every filter given, in id order (``newest_first``: descending)."""

    #: The start of the email, compared as emails are (trimmed, case-folded).
    email_prefix: str | None = None
    lead_id: int | None = None
    #: A part of the first or last name, compared without regard to case.
    name: str | None = None
    #: A part of the company name, compared without regard to case.
    company: str | None = None
    updated_since: datetime | None = None
    list_id: int | None = None
    newest_first: bool = True
    #: The id the previous page ended at: continue after it (or below it, newest first).
    cursor: int | None = None
    #: Look only at the next this many ids past ``cursor`` (which must then be given): a
    #: bounded step of a search that no index serves, such as a part of a name.
    id_window: int | None = None


@dataclass(frozen=True, slots=True)
class LeadCounts:
    total: int
    created_since: int
    updated_since: int


class ConsoleStore(abc.ABC):
    # -- console users --------------------------------------------------------------------
    @abc.abstractmethod
    def add_user(self, name: str, password_hash: str, created_ms: int) -> ConsoleUser:
        """Raises ``AlreadyExists`` when a console user has that name."""

    @abc.abstractmethod
    def user(self, name: str) -> ConsoleUser | None: ...

    @abc.abstractmethod
    def users(self) -> list[ConsoleUser]:
        """Every console user, by name."""

    @abc.abstractmethod
    def remove_user(self, name: str) -> bool: ...

    @abc.abstractmethod
    def session_key(self, new_key: str) -> str:
        """The key that signs console sessions: the stored one, or ``new_key`` stored now when
        there is none (every process on the database then signs with the same key)."""

    # -- reads for the pages ------------------------------------------------------------------
    @abc.abstractmethod
    def search_leads(self, search: LeadSearch, limit: int) -> list[Lead]: ...

    @abc.abstractmethod
    def max_lead_id(self) -> int:
        """The highest lead id in use (0 without leads)."""

    @abc.abstractmethod
    def lead_counts(self, since: datetime) -> LeadCounts:
        """Every lead, and those created and updated at or after ``since``."""

    @abc.abstractmethod
    def lead_list_ids(self, lead_id: int) -> list[int]:
        """The static lists the lead belongs to."""

    @abc.abstractmethod
    def database_bytes(self) -> int:
        """The database's size on disk."""


# -- SQL both backends share, written once with each one's dialect ----------------------------
@dataclass(frozen=True, slots=True)
class Dialect:
    #: The driver's placeholder.
    mark: str
    #: The expression for the text of a lead attribute (a field name from the catalogue).
    attr: Callable[[str], str]
    #: Case-insensitive LIKE.
    like: str
    #: A time as the backend stores it.
    time: Callable[[datetime], Any]


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_sql(search: LeadSearch, limit: int, d: Dialect, columns: str) -> tuple[str, list[Any]]:
    """The statement of ``ConsoleStore.search_leads``; ``columns`` are the lead columns."""
    m = d.mark
    source = "leads l"
    where: list[str] = []
    params: list[Any] = []
    if search.list_id is not None:
        source = "list_members lm JOIN leads l ON l.id = lm.lead_id"
        where.append(f"lm.list_id = {m}")
        params.append(search.list_id)
    if search.lead_id is not None:
        where.append(f"l.id = {m}")
        params.append(search.lead_id)
    if search.email_prefix:
        prefix = email_key(search.email_prefix)
        where.append(f"l.email_key >= {m} AND l.email_key < {m}")
        params += [prefix, prefix + "\U0010ffff"]
    escape = " ESCAPE '\\'"
    if search.name:
        first, last = d.attr("FirstName"), d.attr("LastName")
        where.append(
            f"({first} {d.like} {m}{escape} OR {last} {d.like} {m}{escape}"
            f" OR ({first} || ' ' || {last}) {d.like} {m}{escape})"
        )
        params += [_like_pattern(search.name)] * 3
    if search.company:
        where.append(f"{d.attr('Company')} {d.like} {m}{escape}")
        params.append(_like_pattern(search.company))
    if search.updated_since is not None:
        where.append(f"l.updated_at >= {m}")
        params.append(d.time(search.updated_since))
    if search.cursor is not None:
        where.append(f"l.id {'<' if search.newest_first else '>'} {m}")
        params.append(search.cursor)
        if search.id_window is not None:
            where.append(f"l.id {'>=' if search.newest_first else '<='} {m}")
            step = -search.id_window if search.newest_first else search.id_window
            params.append(search.cursor + step)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = "DESC" if search.newest_first else "ASC"
    # A prefix of a few characters matches few leads: read them through the email index and
    # sort them, rather than walk every id in order looking for them ("+ 0" keeps the
    # planner from taking the id order from the primary key). A shorter prefix matches so
    # many that walking the ids finds a page sooner.
    key = "l.id + 0" if search.email_prefix and len(search.email_prefix.strip()) >= 3 else "l.id"
    params.append(limit)
    return f"SELECT {columns} FROM {source}{clause} ORDER BY {key} {order} LIMIT {m}", params


def counts_sql(d: Dialect, since: datetime) -> tuple[str, list[Any]]:
    m = d.mark
    at = d.time(since)
    # A lead is updated no earlier than it was created, so those created since ``since`` are
    # found among the updated ones, through the update-time index.
    return (
        "SELECT (SELECT count(*) FROM leads),"
        f" (SELECT count(*) FROM leads WHERE updated_at >= {m} AND created_at >= {m}),"
        f" (SELECT count(*) FROM leads WHERE updated_at >= {m})",
        [at, at, at],
    )


def lead_list_ids_sql(mark: str) -> str:
    return f"SELECT list_id FROM list_members WHERE lead_id = {mark} ORDER BY list_id"


CONSOLE_USER_COLUMNS = "name, password_hash, created_ms"


def row_to_console_user(row: Sequence[Any]) -> ConsoleUser:
    return ConsoleUser(name=row[0], password_hash=row[1], created_ms=int(row[2]))


class ConsoleReads(ConsoleStore):
    """The reads of ``ConsoleStore``, written once over a backend's fetch and dialect."""

    @abc.abstractmethod
    def _fetch(self, query: str, params: Sequence[Any]) -> list[Any]:
        """One read-only statement's rows."""

    @abc.abstractmethod
    def _dialect(self) -> Dialect: ...

    @abc.abstractmethod
    def _lead_columns(self) -> str:
        """The lead columns, from table alias ``l``, in the order ``_row_to_lead`` reads."""

    @abc.abstractmethod
    def _row_to_lead(self, row: Any) -> Lead: ...

    def user(self, name: str) -> ConsoleUser | None:
        mark = self._dialect().mark
        sql = f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users WHERE name = {mark}"
        rows = self._fetch(sql, (name,))
        return row_to_console_user(rows[0]) if rows else None

    def users(self) -> list[ConsoleUser]:
        rows = self._fetch(f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users ORDER BY name", ())
        return [row_to_console_user(row) for row in rows]

    def search_leads(self, search: LeadSearch, limit: int) -> list[Lead]:
        sql, params = search_sql(search, limit, self._dialect(), self._lead_columns())
        return [self._row_to_lead(row) for row in self._fetch(sql, params)]

    def max_lead_id(self) -> int:
        return int(self._fetch("SELECT max(id) FROM leads", ())[0][0] or 0)

    def lead_counts(self, since: datetime) -> LeadCounts:
        sql, params = counts_sql(self._dialect(), since)
        row = self._fetch(sql, params)[0]
        return LeadCounts(int(row[0]), int(row[1]), int(row[2]))

    def lead_list_ids(self, lead_id: int) -> list[int]:
        sql = lead_list_ids_sql(self._dialect().mark)
        return [int(row[0]) for row in self._fetch(sql, (lead_id,))]
