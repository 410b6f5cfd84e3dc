"""PostgreSQL: several leadsync processes share one database.

Each call runs in its own transaction on a pooled connection. Writers really do run at once
here, so a write locks before it decides: ``lock_keys`` takes transaction-scoped advisory
locks on the emails and ForeignSysPersonIds it may create, and every lead a writer reads is
row-locked, so that two calls never both create a lead for one new key and no update is
computed from a row that another call is changing. Reads see one REPEATABLE READ snapshot.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeAlias

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from leadsync.clock import SYSTEM_CLOCK
from leadsync.errors import ConfigError, StoreUnavailable
from leadsync.model import ApiUser, FieldDef, FieldType, Lead, StaticList
from leadsync.store.base import (
    AlreadyExists,
    LeadReader,
    LeadWriter,
    Store,
    StoreFeatures,
    checked_field_name,
    driver_errors,
    email_key,
    field_text,
    first_line,
)
from leadsync.store.bridge import BridgeStore
from leadsync.store.calls import CallStore
from leadsync.store.console import ConsoleStore
from leadsync.store.control import FaultStore, LimitStore
from leadsync.store.jobs import JobStore
from leadsync.store.migrate import check_version, load_migrations
from leadsync.store.postgres_bridge import PostgresBridge
from leadsync.store.postgres_calls import PostgresCalls
from leadsync.store.postgres_console import PostgresConsole
from leadsync.store.postgres_control import PostgresFaults, PostgresLimits, reset_leads
from leadsync.store.postgres_lead_api import (
    STATIC_LISTS_SQL,
    LeadApiReads,
    LeadApiWrites,
    add_static_list,
    static_lists,
)
from leadsync.store.postgres_services import PostgresServices
from leadsync.store.services import ServiceStore
from leadsync.store.sql_jobs import QUEUE_LOCK_KEY, SqlJobs, save_job_state, us

Conn: TypeAlias = psycopg.Connection[TupleRow]
Row: TypeAlias = tuple[Any, ...]
Params: TypeAlias = Sequence[Any] | Mapping[str, Any]

_BACKEND = "postgres"
_CONNECT_TIMEOUT_S = 5
# The pool retries a lost connection in the background with doubling delays, and while every
# slot is held by such a retry, callers wait for its next turn: after a long outage that
# would be minutes after the server is back. Retries that give up early free their slot, so
# the next caller's demand reconnects at once.
_RECONNECT_TIMEOUT_S = 5.0
_OPEN_TIMEOUT_S = 15.0
_LEAD_COLUMNS = "id, email, fsp_id, fsp_type, cookie, attrs, created_at, updated_at"
_L_LEAD_COLUMNS = ", ".join(f"l.{name}" for name in _LEAD_COLUMNS.split(", "))
_READ_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_WRITE_BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
# NO KEY UPDATE is the lock an UPDATE of non-key columns takes anyway; unlike FOR UPDATE it
# does not block inserting rows whose foreign keys reference the lead.
_ROW_LOCK = " FOR NO KEY UPDATE"
_INT8_MIN, _INT8_MAX = -(2**63), 2**63 - 1


def _lock_id(namespace: str, key: str) -> int:
    """A stable signed 64-bit advisory lock id; a collision only serialises two calls."""
    data = f"{namespace}\x00{key}".encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=8, person=b"leadsync").digest()
    return int.from_bytes(digest, "big", signed=True)


_MIGRATE_LOCK = _lock_id("schema", "migrate")


def _json_number(value: float) -> str:
    # jsonb keeps numbers as numeric and prints 1e16 back as 10000000000000000, which JSON
    # readers take for an int; written with a decimal point it stays a float.
    if not math.isfinite(value):
        raise ValueError(f"JSON has no representation for {value!r}")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." not in text:
        text += ".0"
    return text


def _dump_attrs(values: Mapping[str, Any]) -> str:
    if not any(isinstance(value, float) for value in values.values()):
        # The common case: one C-encoded dump, no float needing its decimal point kept.
        return orjson.dumps(values).decode()
    parts = []
    for key, value in values.items():
        text = _json_number(value) if isinstance(value, float) else json.dumps(value)
        parts.append(f"{json.dumps(key)}:{text}")
    return "{" + ",".join(parts) + "}"


def _configure(conn: Conn) -> None:
    # Every read of a lead decodes its jsonb values; orjson does it several times faster.
    set_json_loads(orjson.loads, conn)


def _utc(value: datetime) -> datetime:
    # Naive datetimes mean local time, as datetime.timestamp() (and so SQLiteStore) reads them.
    return value.astimezone(UTC)


def _row_to_lead(row: Row) -> Lead:
    return Lead(
        id=row[0],
        email=row[1],
        foreign_sys_person_id=row[2],
        foreign_sys_type=row[3],
        cookie=row[4],
        values=row[5],
        created_at=row[6].astimezone(UTC),
        updated_at=row[7].astimezone(UTC),
    )


#: A set of keys as one parameter: a JSON array (``_json_array``) unpacked by the database.
#: psycopg dumps a Python list item by item in Python; orjson writes the array in C, and
#: ``= ANY(ARRAY(...))`` still uses the column's index.
_TEXTS = "ARRAY(SELECT jsonb_array_elements_text(%s::jsonb))"
_INT8S = "ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)::bigint)"


def _json_array(items: Iterable[Any]) -> str:
    return orjson.dumps(list(items)).decode()


def _lead_params(lead: Lead) -> tuple[Any, ...]:
    return (
        lead.id,
        lead.email,
        email_key(lead.email) if lead.email else None,
        lead.foreign_sys_person_id,
        lead.foreign_sys_type,
        lead.cookie,
        # Text in the jsonb column's input format: written by COPY as is, cast by UPDATEs.
        _dump_attrs(lead.values),
        _utc(lead.created_at),
        _utc(lead.updated_at),
    )


_USER_COLUMNS = "user_id, encryption_key, created_at, previous_key, previous_key_until"
#: A user's columns, then whether it exists: one row, with placeholders for an absent user.
_USER_LOOKUP = (
    "SELECT %s::text, coalesce(encryption_key, ''), coalesce(created_at, 'epoch'::timestamptz),"
    " previous_key, previous_key_until, api_users.user_id IS NOT NULL"
    " FROM (SELECT 1) AS one LEFT JOIN api_users ON api_users.user_id = %s"
)


def _row_to_user(row: Row) -> ApiUser:
    until = row[4].astimezone(UTC) if row[4] is not None else None
    return ApiUser(row[0], row[1], row[2].astimezone(UTC), row[3], until)


class _PgReader(LeadApiReads, LeadReader):
    #: Appended to every lead query; writers lock what they read.
    lock = ""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    def _leads(self, where: str, keys: list[Any]) -> list[Lead]:
        if not keys:
            return []
        # Sorted by id so that concurrent writers take row locks in one order.
        rows = self.conn.execute(
            f"SELECT {_LEAD_COLUMNS} FROM leads WHERE {where} ORDER BY id{self.lock}",
            (_json_array(keys),),
        ).fetchall()
        return [_row_to_lead(row) for row in rows]

    def leads_by_ids(self, ids: Iterable[int]) -> dict[int, Lead]:
        # An id outside bigint cannot exist; sending it would only fail the whole statement.
        wanted = sorted({i for i in ids if _INT8_MIN <= i <= _INT8_MAX})
        return {lead.id: lead for lead in self._leads(f"id = ANY({_INT8S})", wanted)}

    def leads_by_foreign_ids(self, foreign_ids: Iterable[str]) -> dict[str, Lead]:
        leads = self._leads(f"fsp_id = ANY({_TEXTS})", sorted(set(foreign_ids)))
        return {lead.foreign_sys_person_id: lead for lead in leads if lead.foreign_sys_person_id}

    def leads_by_cookies(self, cookies: Iterable[str]) -> dict[str, Lead]:
        leads = self._leads(f"cookie = ANY({_TEXTS})", sorted(set(cookies)))
        return {lead.cookie: lead for lead in leads if lead.cookie}

    def newest_leads_by_email(self, email_keys: Iterable[str]) -> dict[str, Lead]:
        newest: dict[str, Lead] = {}
        pending = set(email_keys)
        lock = f"{self.lock} OF l" if self.lock else ""
        while pending:
            # The newest lead is the one with the highest id for its email_key. A locking read
            # returns the latest version of a row it had to wait for; when a concurrent call
            # moved that lead to another email meanwhile, ask again for that key: the next
            # statement sees the move and finds the lead that is newest now.
            rows = self.conn.execute(
                f"SELECT {_L_LEAD_COLUMNS}, l.email_key, m.email_key FROM leads l JOIN ("
                f"SELECT email_key, max(id) AS id FROM leads WHERE email_key = ANY({_TEXTS})"
                f" GROUP BY email_key) m ON l.id = m.id ORDER BY l.id{lock}",
                (_json_array(sorted(pending)),),
            ).fetchall()
            pending = set()
            for row in rows:
                if row[8] == row[9]:
                    newest[row[9]] = _row_to_lead(row)
                else:
                    pending.add(row[9])
        return newest

    def shared_email_keys(self, email_keys: Iterable[str]) -> set[str]:
        keys = sorted(set(email_keys))
        if not keys:
            return set()
        rows = self.conn.execute(
            f"SELECT email_key FROM leads WHERE email_key = ANY({_TEXTS})"
            " GROUP BY email_key HAVING count(*) > 1",
            (_json_array(keys),),
        ).fetchall()
        return {r[0] for r in rows}

    def leads_by_field(self, name: str, values: Iterable[str]) -> dict[str, list[Lead]]:
        key = checked_field_name(name)
        leads = self._leads(f"attrs->>'{key}' = ANY({_TEXTS})", sorted(set(values)))
        found: dict[str, list[Lead]] = {}
        for lead in sorted(leads, key=lambda x: -x.id):
            text = field_text(lead.values.get(name))
            if text is not None:
                found.setdefault(text, []).append(lead)
        return found

    def count_leads(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM leads").fetchone()
        return int(row[0]) if row else 0


class _PgWriter(LeadApiWrites, _PgReader, LeadWriter):
    lock = _ROW_LOCK

    def save_job_state(
        self, job_id: int, owner: str, state: dict[str, Any], lease_until: datetime
    ) -> bool:
        return save_job_state(self.conn, "%s", job_id, owner, state, us(lease_until))

    def lock_keys(
        self, email_keys: Iterable[str], foreign_ids: Iterable[str], cookies: Iterable[str] = ()
    ) -> None:
        ids = {_lock_id("email", key) for key in email_keys}
        ids |= {_lock_id("fsp", fsp) for fsp in foreign_ids}
        ids |= {_lock_id("cookie", cookie) for cookie in cookies}
        if not ids:
            return
        # One global order (by lock id) so that two calls locking overlapping keys cannot
        # deadlock; the locks last until commit or rollback.
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(k::bigint)"
            " FROM jsonb_array_elements_text(%s::jsonb) WITH ORDINALITY AS u(k, n) ORDER BY n",
            (_json_array(sorted(ids)),),
        ).fetchall()

    def allocate_ids(self, count: int) -> list[int]:
        if count <= 0:
            return []
        rows = self.conn.execute(
            "SELECT nextval('leads_id_seq') FROM generate_series(1, %s::int)", (count,)
        ).fetchall()
        return sorted(int(row[0]) for row in rows)

    def insert_leads(self, leads: Sequence[Lead]) -> None:
        if not leads:
            return
        # COPY: one stream for the whole batch instead of a statement per lead.
        with (
            self.conn.cursor() as cur,
            cur.copy(
                "COPY leads (id, email, email_key, fsp_id, fsp_type, cookie, attrs,"
                " created_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            for lead in leads:
                copy.write_row(_lead_params(lead))

    def update_leads(self, leads: Sequence[Lead]) -> None:
        if not leads:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE leads SET email = %s, email_key = %s, fsp_id = %s, fsp_type = %s,"
                " cookie = %s, attrs = %s::jsonb, updated_at = %s WHERE id = %s",
                [(*_lead_params(lead)[1:7], _utc(lead.updated_at), lead.id) for lead in leads],
            )


class PostgresStore(Store):
    features = StoreFeatures(concurrent_writers=True, embedded=False)

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 15.0
    ) -> None:
        """Open a pool on ``url``; ``timeout`` bounds the wait for a free connection."""
        self.url = url
        self._limits: PostgresLimits | None = None
        self._limits_lock = threading.Lock()
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise ConfigError(f"bad PostgreSQL URL: {first_line(exc)}") from exc
        host = params.get("host") or params.get("hostaddr") or "localhost"
        self._where = f"{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in params:
            kwargs["connect_timeout"] = _CONNECT_TIMEOUT_S
        if "application_name" not in params:
            kwargs["application_name"] = "leadsync"
        self._attempts = max_size + 1
        # One direct connection first: an unreachable database then fails at once with
        # libpq's reason, rather than after the pool's timeout with a generic one.
        try:
            with psycopg.connect(url, **kwargs):
                pass
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {self._where}: {first_line(exc)}"
            ) from exc
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            kwargs=kwargs,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=timeout,
            reconnect_timeout=_RECONNECT_TIMEOUT_S,
            name="leadsync",
            configure=_configure,
        )
        try:
            # Starting may take longer than a call may wait.
            self._pool.open(wait=True, timeout=max(timeout, _OPEN_TIMEOUT_S))
        except psycopg.Error as exc:
            self._pool.close()
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {self._where}: {first_line(exc)}"
            ) from exc

    def close(self) -> None:
        if self._limits is not None:
            self._limits.close()
        self._pool.close()

    # -- connections ----------------------------------------------------------------------
    def _errors(self) -> AbstractContextManager[None]:
        return driver_errors(
            f"PostgreSQL at {self._where}",
            (psycopg.Error,),
            unavailable=(psycopg.OperationalError, psycopg.InterfaceError),
        )

    def _first(self, query: str, params: Params | None) -> tuple[Conn, list[Row]]:
        """Run a call's first statement, on a pooled connection that turns out to be alive.

        A pooled connection may have died while idle (server restart, failover, idle
        timeout) and only the next statement finds out. Nothing has run on it yet, so trying
        the next connection is safe; the pool replaces the dead one. Unlike the pool's
        ``check`` callback this costs no extra round trip, and it does not sleep with doubling
        delays for each dead connection it meets, which after a restart would time callers
        out while a pool full of stale connections drains.
        """
        for attempt in range(self._attempts):
            conn = self._pool.getconn()
            try:
                cur = conn.execute(query, params)
                rows = cur.fetchall() if cur.description else []
            except BaseException as exc:
                dead = conn.closed
                self._pool.putconn(conn)
                if dead and isinstance(exc, psycopg.Error) and attempt + 1 < self._attempts:
                    continue
                raise
            return conn, rows
        raise AssertionError("unreachable")

    def _fetch(self, query: str, params: Params | None = None) -> list[Row]:
        """One read-only statement in autocommit (one round trip)."""
        with self._errors():
            conn, rows = self._first(query, params)
            self._pool.putconn(conn)
            return rows

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Conn]:
        with self._errors():
            conn, _ = self._first(begin, None)
            try:
                try:
                    yield conn
                except BaseException:
                    self._rollback_quietly(conn)
                    raise
                if conn.info.transaction_status is TransactionStatus.INERROR:
                    # COMMIT would answer ROLLBACK without an error: never let a write that
                    # did not happen look like a success.
                    self._rollback_quietly(conn)
                    raise StoreUnavailable(
                        f"PostgreSQL at {self._where}: a statement failed, the transaction was"
                        " rolled back"
                    )
                conn.execute("COMMIT")
            finally:
                self._pool.putconn(conn)

    @staticmethod
    def _rollback_quietly(conn: Conn) -> None:
        # The original exception matters more; a dead connection is discarded by the pool.
        if conn.closed:
            return
        with suppress(psycopg.Error):
            conn.execute("ROLLBACK")

    # -- schema ---------------------------------------------------------------------------
    @staticmethod
    def _current_version(conn: Conn, *, create: bool) -> int:
        row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not (row and row[0]):
            if not create:
                return 0
            conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def schema_version(self) -> int:
        with self._transaction(_READ_BEGIN) as conn:
            current = self._current_version(conn, create=False)
        check_version(_BACKEND, current, require_latest=True)
        return current

    def migrate(self) -> list[int]:
        applied: list[int] = []
        with self._transaction(_WRITE_BEGIN) as conn:
            # Several processes may start at once: the first migrates while the others wait,
            # then see its committed work, as READ COMMITTED reads after the lock.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
            current = self._current_version(conn, create=True)
            check_version(_BACKEND, current, require_latest=False)
            for migration in load_migrations(_BACKEND):
                if migration.version <= current:
                    continue
                # Without parameters psycopg sends the file as one simple query, so it may
                # hold several statements; DDL is transactional, so a failure leaves nothing.
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
        return applied

    # -- users ----------------------------------------------------------------------------
    def add_user(self, user_id: str, encryption_key: str) -> ApiUser:
        created = SYSTEM_CLOCK.now()
        with self._transaction(_WRITE_BEGIN) as conn:
            cur = conn.execute(
                "INSERT INTO api_users (user_id, encryption_key, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, encryption_key, created),
            )
            if cur.rowcount == 0:
                raise AlreadyExists(f"API user {user_id!r} exists already")
        return ApiUser(user_id, encryption_key, created)

    def get_user(self, user_id: str) -> ApiUser | None:
        row = self._fetch(_USER_LOOKUP, (user_id, user_id))[0]
        user = _row_to_user(row)
        return user if row[5] else None

    def list_users(self) -> list[ApiUser]:
        rows = self._fetch(f"SELECT {_USER_COLUMNS} FROM api_users ORDER BY user_id")
        return [_row_to_user(r) for r in rows]

    def rotate_key(
        self, user_id: str, encryption_key: str, previous_until: datetime | None
    ) -> ApiUser | None:
        with self._transaction(_WRITE_BEGIN) as conn:
            # The right-hand encryption_key is the row's value before this update.
            row = conn.execute(
                "UPDATE api_users SET previous_key = CASE WHEN %(until)s::timestamptz IS NULL"
                " THEN NULL ELSE encryption_key END, previous_key_until = %(until)s,"
                " encryption_key = %(key)s WHERE user_id = %(user)s"
                f" RETURNING {_USER_COLUMNS}",
                {"until": previous_until, "key": encryption_key, "user": user_id},
            ).fetchone()
        return _row_to_user(row) if row else None

    def remove_user(self, user_id: str) -> bool:
        with self._transaction(_WRITE_BEGIN) as conn:
            cur = conn.execute("DELETE FROM api_users WHERE user_id = %s", (user_id,))
            return cur.rowcount > 0

    # -- fields ---------------------------------------------------------------------------
    def custom_fields(self) -> list[FieldDef]:
        rows = self._fetch("SELECT name, type FROM custom_fields ORDER BY name")
        return [FieldDef(r[0], FieldType(r[1]), custom=True) for r in rows]

    def add_custom_field(self, field: FieldDef) -> None:
        with self._transaction(_WRITE_BEGIN) as conn:
            cur = conn.execute(
                "INSERT INTO custom_fields (name, type, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (name) DO NOTHING",
                (field.name, field.type.value, SYSTEM_CLOCK.now()),
            )
            if cur.rowcount == 0:
                raise AlreadyExists(f"field {field.name!r} exists already")

    # -- static lists ---------------------------------------------------------------------
    def add_static_list(self, name: str) -> StaticList:
        with self._transaction(_WRITE_BEGIN) as conn:
            return add_static_list(conn, name)

    def static_lists(self) -> list[StaticList]:
        return static_lists(self._fetch(STATIC_LISTS_SQL))

    # -- call limits, fault rules, reset -------------------------------------------------
    def limits(self) -> LimitStore:
        # One part for the store's life: its usage counts wait in it (store/usage_batch.py).
        with self._limits_lock:
            if self._limits is None:
                self._limits = PostgresLimits(self)
            return self._limits

    def faults(self) -> FaultStore:
        return PostgresFaults(self)

    def calls(self) -> CallStore:
        return PostgresCalls(self)

    def services(self) -> ServiceStore:
        return PostgresServices(self)

    def jobs(self) -> JobStore:
        return SqlJobs(
            partial(self._transaction, _WRITE_BEGIN),
            self._fetch,
            marker="%s",
            serialise=f"SELECT pg_advisory_xact_lock({QUEUE_LOCK_KEY})",
        )

    def console(self) -> ConsoleStore:
        return PostgresConsole(self)

    def bridge(self) -> BridgeStore:
        return PostgresBridge(self)

    def reset_leads(self) -> int:
        return reset_leads(self)

    # -- leads ----------------------------------------------------------------------------
    def write(self) -> AbstractContextManager[LeadWriter]:
        @contextmanager
        def writer() -> Iterator[LeadWriter]:
            with self._transaction(_WRITE_BEGIN) as conn:
                yield _PgWriter(conn)

        return writer()

    def read(self) -> AbstractContextManager[LeadReader]:
        @contextmanager
        def reader() -> Iterator[LeadReader]:
            with self._transaction(_READ_BEGIN) as conn:
                yield _PgReader(conn)

        return reader()
