"""The storage contract for bridge mode (docs/bridge.md): the upstream's access token, shared
by every worker and host on the database, the journal of bridged calls, and the lead keys
bridged writes hold while they are upstream.

The upstream's call budget is not here: it is counted by the limits machinery
(store/control.py) under a reserved subject, as REST calls are. Times are passed in by the
caller (milliseconds since the epoch), never read from the database's clock.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class UpstreamToken:
    token: str
    expires_ms: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    #: Milliseconds since the epoch when the call was answered.
    at_ms: int
    user_id: str
    operation: str
    duration_ms: float
    records: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    #: The upstream's requestIds, comma-separated, in the order they were answered.
    request_ids: str = ""
    #: The upstream codes seen (call- and record-level), comma-separated, sorted.
    upstream_codes: str = ""
    #: The SOAP fault the call was answered with (None: it succeeded).
    fault_code: int | None = None
    error_id: str = ""
    #: Set by the store.
    id: int = 0

    @property
    def failed_call(self) -> bool:
        return self.fault_code is not None or self.failed > 0


JOURNAL_COLUMNS = (
    "id, at_ms, user_id, operation, duration_ms, records, created, updated, failed,"
    " request_ids, upstream_codes, fault_code, error_id"
)


def journal_insert_sql(mark: str) -> str:
    marks = ", ".join([mark] * 12)
    return (
        "INSERT INTO bridge_journal (at_ms, user_id, operation, duration_ms, records, created,"
        " updated, failed, request_ids, upstream_codes, fault_code, error_id)"
        f" VALUES ({marks})"
    )


def journal_params(e: JournalEntry) -> tuple[Any, ...]:
    return (
        e.at_ms,
        e.user_id,
        e.operation,
        e.duration_ms,
        e.records,
        e.created,
        e.updated,
        e.failed,
        e.request_ids,
        e.upstream_codes,
        e.fault_code,
        e.error_id,
    )


def journal_page_sql(
    since_ms: int | None, failed_only: bool, mark: str, newest_first: bool = False
) -> tuple[str, list[Any]]:
    """Oldest first (or newest first), from ``since_ms``; ``failed_only``: faults and calls
    with a FAILED record."""
    where: list[str] = []
    params: list[Any] = []
    if since_ms is not None:
        where.append(f"at_ms >= {mark}")
        params.append(since_ms)
    if failed_only:
        where.append("(fault_code IS NOT NULL OR failed > 0)")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = "id DESC" if newest_first else "id"
    sql = f"SELECT {JOURNAL_COLUMNS} FROM bridge_journal{clause} ORDER BY {order} LIMIT {mark}"
    return sql, params


def row_to_entry(row: Sequence[Any]) -> JournalEntry:
    return JournalEntry(
        id=int(row[0]),
        at_ms=int(row[1]),
        user_id=row[2],
        operation=row[3],
        duration_ms=float(row[4]),
        records=int(row[5]),
        created=int(row[6]),
        updated=int(row[7]),
        failed=int(row[8]),
        request_ids=row[9],
        upstream_codes=row[10],
        fault_code=None if row[11] is None else int(row[11]),
        error_id=row[12],
    )


def blocking(
    holds: Iterable[tuple[str, str, int]], now_ms: int, dead: Callable[[str], bool]
) -> bool:
    """Whether any of ``holds`` (key, owner, until_ms) still holds its key: it has not run
    out and the process that took it is not known to be gone."""
    return any(until_ms >= now_ms and not dead(owner) for _, owner, until_ms in holds)


class BridgeStore(abc.ABC):
    @abc.abstractmethod
    def token(self, key: str) -> UpstreamToken | None:
        """The token stored for ``key`` (an upstream and client id), expired or not."""

    @abc.abstractmethod
    def save_token(self, key: str, token: UpstreamToken) -> None:
        """Store ``token`` for ``key``, replacing the one stored."""

    @abc.abstractmethod
    def forget_token(self, key: str, token: str) -> None:
        """Forget ``token`` if it is still the one stored for ``key`` (another process may
        have stored a newer one already)."""

    @abc.abstractmethod
    def add_journal(self, entry: JournalEntry) -> None: ...

    @abc.abstractmethod
    def journal(
        self,
        *,
        since_ms: int | None = None,
        failed_only: bool = False,
        limit: int = 10_000,
        newest_first: bool = False,
    ) -> list[JournalEntry]:
        """At most ``limit`` entries, oldest first (or the newest, newest first)."""

    @abc.abstractmethod
    def trim_journal(self, before_ms: int) -> int:
        """Delete the entries answered before ``before_ms``; returns how many."""

    # -- key holds ------------------------------------------------------------------------
    @abc.abstractmethod
    def hold_keys(
        self,
        keys: Sequence[str],
        holder: str,
        owner: str,
        *,
        now_ms: int,
        until_ms: int,
        dead: Callable[[str], bool],
    ) -> bool:
        """Hold every key of ``keys`` for ``holder`` (one write; ``owner`` names its process,
        as leases do) until ``until_ms``, or none of them: False, and nothing written, when a
        key is held by another write that has not run out and whose process is not ``dead``.
        Holds that ran out, or whose process died, are taken over."""

    @abc.abstractmethod
    def free_keys(self, holder: str) -> None:
        """Let go of every key ``holder`` holds."""
