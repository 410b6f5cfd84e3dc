"""The storage contract for the calls history: a bounded log of the latest API calls.

The console reads it (docs/console.md). Entries are appended in batches by a background
thread (``leadsync.call_history``), never by the call itself, and the oldest are deleted as
new ones come so that at most ``keep`` remain. Ids increase with insertion; pages walk
newest first, continuing below the last id seen.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CallEntry:
    #: Milliseconds since the epoch when the call was answered.
    at_ms: int
    #: The API user (or REST service) that made it; "-" when it never authenticated.
    user_id: str
    #: "soap", "rest", "bulk".
    api: str
    operation: str
    duration_ms: float
    records: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    #: The Marketo code of the fault it was answered with; None when it succeeded.
    fault_code: int | None = None
    #: The id an unexpected error was logged under (in its 20011 fault too).
    error_id: str = ""
    #: The per-record outcome summary as JSON text (see ``leadsync.call_history``).
    summary: str = ""
    #: Set by the store.
    id: int = 0


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Which calls a page holds; every filter given must match."""

    user_id: str | None = None
    operation: str | None = None
    api: str | None = None
    fault_code: int | None = None
    #: Only calls answered with a fault (any code).
    faults_only: bool = False
    since_ms: int | None = None
    #: Continue below this id (keyset paging, newest first).
    before_id: int | None = None


@dataclass(frozen=True, slots=True)
class CallCount:
    api: str
    operation: str
    #: None for the calls that succeeded.
    fault_code: int | None
    calls: int


class CallStore(abc.ABC):
    @abc.abstractmethod
    def record(self, entries: Sequence[CallEntry], keep: int) -> None:
        """Append ``entries`` in one transaction, then delete all but the newest ``keep``."""

    @abc.abstractmethod
    def page(self, query: CallQuery, limit: int) -> list[CallEntry]:
        """At most ``limit`` calls matching ``query``, newest first."""

    @abc.abstractmethod
    def get(self, call_id: int) -> CallEntry | None: ...

    @abc.abstractmethod
    def counts_since(self, since_ms: int) -> list[CallCount]:
        """Calls answered since ``since_ms``, counted by api, operation and fault code."""


CALL_COLUMNS = (
    "id, at_ms, user_id, api, operation, duration_ms, records, created, updated, failed,"
    " fault_code, error_id, summary"
)
_INSERT_COLUMNS = CALL_COLUMNS.removeprefix("id, ")


def insert_sql(mark: str) -> str:
    """The INSERT of one entry, with ``mark`` as the driver's placeholder."""
    marks = ", ".join([mark] * 12)
    return f"INSERT INTO calls ({_INSERT_COLUMNS}) VALUES ({marks})"


def insert_params(entry: CallEntry) -> tuple[Any, ...]:
    return (
        entry.at_ms,
        entry.user_id,
        entry.api,
        entry.operation,
        entry.duration_ms,
        entry.records,
        entry.created,
        entry.updated,
        entry.failed,
        entry.fault_code,
        entry.error_id,
        entry.summary,
    )


def trim_sql(mark: str) -> str:
    """Deletes every entry but the newest ``keep`` (ids only grow, so this is a range)."""
    return f"DELETE FROM calls WHERE id <= (SELECT max(id) FROM calls) - {mark}"


def page_sql(query: CallQuery, limit: int, mark: str) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("user_id", query.user_id),
        ("operation", query.operation),
        ("api", query.api),
        ("fault_code", query.fault_code),
    ):
        if value is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if query.faults_only:
        where.append("fault_code IS NOT NULL")
    if query.since_ms is not None:
        where.append(f"at_ms >= {mark}")
        params.append(query.since_ms)
    if query.before_id is not None:
        where.append(f"id < {mark}")
        params.append(query.before_id)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    params.append(limit)
    return f"SELECT {CALL_COLUMNS} FROM calls{clause} ORDER BY id DESC LIMIT {mark}", params


def counts_sql(mark: str) -> str:
    return (
        "SELECT api, operation, fault_code, count(*) FROM calls"
        f" WHERE at_ms >= {mark} GROUP BY api, operation, fault_code"
        " ORDER BY api, operation, fault_code"
    )


def row_to_call(row: Sequence[Any]) -> CallEntry:
    return CallEntry(
        id=int(row[0]),
        at_ms=int(row[1]),
        user_id=row[2],
        api=row[3],
        operation=row[4],
        duration_ms=float(row[5]),
        records=row[6],
        created=row[7],
        updated=row[8],
        failed=row[9],
        fault_code=row[10],
        error_id=row[11],
        summary=row[12],
    )


def row_to_count(row: Sequence[Any]) -> CallCount:
    return CallCount(api=row[0], operation=row[1], fault_code=row[2], calls=int(row[3]))
