"""What the stores' parts (limits, calls, services, console, bridge) need of the store that
owns their connection, one shape per backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

    PgConn: TypeAlias = psycopg.Connection[TupleRow]


class SQLiteHandle(Protocol):
    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]: ...


class PostgresHandle(Protocol):
    def _fetch(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]: ...

    def _transaction(self, begin: str) -> AbstractContextManager[PgConn]: ...
