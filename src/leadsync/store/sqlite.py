"""The embedded default: one SQLite file in WAL mode.

Writes are serialised through one writer connection behind a lock and ``BEGIN IMMEDIATE``,
so a call's batch is atomic and "database is locked" never reaches a client; readers use
their own connections and see the last committed snapshot. Several processes on one file
wait for each other through SQLite's busy timeout.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from leadsync.clock import SYSTEM_CLOCK
from leadsync.errors import ConfigError, StoreUnavailable
from leadsync.model import ApiUser, FieldDef, FieldType, Lead, StaticList
from leadsync.store.base import (
    AlreadyExists,
    LeadReader,
    LeadWriter,
    SchemaMissing,
    Store,
    StoreFeatures,
    checked_field_name,
    driver_errors,
    email_key,
    field_text,
    iter_chunks,
)
from leadsync.store.bridge import BridgeStore
from leadsync.store.calls import CallStore
from leadsync.store.console import ConsoleStore
from leadsync.store.control import FaultStore, LimitStore
from leadsync.store.jobs import JobStore
from leadsync.store.migrate import check_version, load_migrations
from leadsync.store.services import ServiceStore
from leadsync.store.sql_jobs import SqlJobs, save_job_state
from leadsync.store.sqlite_bridge import SQLiteBridge
from leadsync.store.sqlite_calls import SQLiteCalls
from leadsync.store.sqlite_checkpoint import BACKSTOP_PAGES, Checkpointer
from leadsync.store.sqlite_console import SQLiteConsole
from leadsync.store.sqlite_control import SQLiteFaults, SQLiteLimits, reset_leads
from leadsync.store.sqlite_lead_api import (
    LeadApiReads,
    LeadApiWrites,
    add_static_list,
    static_lists,
)
from leadsync.store.sqlite_rows import JsonInsert, SparseUpdate
from leadsync.store.sqlite_services import SQLiteServices

_BUSY_TIMEOUT_MS = 60_000
#: SQLite's default limit on host parameters is 32766; stay far below it.
_CHUNK = 500
_LEAD_COLUMNS = "id, email, fsp_id, fsp_type, cookie, attrs, created_at, updated_at"


def now_us() -> int:
    """The system clock, for rows an operator creates (see store/base.py, "Time")."""
    return to_us(SYSTEM_CLOCK.now())


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


# Cached: the leads of one call share their timestamps, so a batch converts a handful of
# distinct values thousands of times.
@functools.lru_cache(maxsize=4096)
def from_us(value: int) -> datetime:
    # Integer arithmetic: a float of microseconds loses precision far from 1970.
    return _EPOCH + value * _US


@functools.lru_cache(maxsize=4096)
def to_us(value: datetime) -> int:
    return (value.astimezone(UTC) - _EPOCH) // _US


def path_from_url(url: str) -> Path:
    prefix = "sqlite:///"
    if not url.lower().startswith(prefix):
        raise ConfigError(f"bad SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////abs.db")
    rest = url[len(prefix) :]
    if not rest or rest == ":memory:":
        raise ConfigError("an SQLite URL must name a file (sqlite:///path/to/leadsync.db)")
    return Path(rest)


def _row_to_lead(row: sqlite3.Row | tuple[Any, ...]) -> Lead:
    return Lead(
        id=row[0],
        email=row[1],
        foreign_sys_person_id=row[2],
        foreign_sys_type=row[3],
        cookie=row[4],
        values=orjson.loads(row[5]),
        created_at=from_us(row[6]),
        updated_at=from_us(row[7]),
    )


#: Leads as one JSON array made by SQLite: the rows arrive in one step of the statement,
#: during which other threads hold the GIL, instead of a step (a GIL hand-over) per row.
_LEADS_AS_JSON = (
    "json_group_array(json_array(id, email, fsp_id, fsp_type, cookie, json(attrs),"
    " created_at, updated_at, email_key))"
)


def _leads_from_json(text: str) -> list[tuple[Lead, str | None]]:
    """Leads, each with its email key, from a ``_LEADS_AS_JSON`` array."""
    return [
        (
            Lead(
                id=r[0],
                email=r[1],
                foreign_sys_person_id=r[2],
                foreign_sys_type=r[3],
                cookie=r[4],
                values=r[5],
                created_at=from_us(r[6]),
                updated_at=from_us(r[7]),
            ),
            r[8],
        )
        for r in orjson.loads(text)
    ]


class _SQLiteReader(LeadApiReads, LeadReader):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _select_in(self, column: str, keys: Sequence[Any]) -> list[Lead]:
        found: list[Lead] = []
        for chunk in iter_chunks(keys, _CHUNK):
            marks = ",".join("?" * len(chunk))
            (text,) = self.conn.execute(
                f"SELECT {_LEADS_AS_JSON} FROM leads WHERE {column} IN ({marks})", tuple(chunk)
            ).fetchone()
            found.extend(lead for lead, _ in _leads_from_json(text))
        return found

    def leads_by_ids(self, ids: Iterable[int]) -> dict[int, Lead]:
        return {lead.id: lead for lead in self._select_in("id", list(set(ids)))}

    def leads_by_foreign_ids(self, foreign_ids: Iterable[str]) -> dict[str, Lead]:
        leads = self._select_in("fsp_id", list(set(foreign_ids)))
        return {lead.foreign_sys_person_id: lead for lead in leads if lead.foreign_sys_person_id}

    def leads_by_cookies(self, cookies: Iterable[str]) -> dict[str, Lead]:
        return {
            lead.cookie: lead
            for lead in self._select_in("cookie", list(set(cookies)))
            if lead.cookie
        }

    def newest_leads_by_email(self, email_keys: Iterable[str]) -> dict[str, Lead]:
        newest: dict[str, Lead] = {}
        keys = list(set(email_keys))
        for chunk in iter_chunks(keys, _CHUNK):
            marks = ",".join("?" * len(chunk))
            # The newest lead is the one with the highest id for its email_key.
            (text,) = self.conn.execute(
                f"SELECT {_LEADS_AS_JSON} FROM leads WHERE id IN ("
                f"SELECT max(id) FROM leads WHERE email_key IN ({marks}) GROUP BY email_key)",
                tuple(chunk),
            ).fetchone()
            for lead, key in _leads_from_json(text):
                if key is not None:
                    newest[key] = lead
        return newest

    def shared_email_keys(self, email_keys: Iterable[str]) -> set[str]:
        shared: set[str] = set()
        for chunk in iter_chunks(list(set(email_keys)), _CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT email_key FROM leads WHERE email_key IN ({marks})"
                " GROUP BY email_key HAVING count(*) > 1",
                tuple(chunk),
            ).fetchall()
            shared.update(r[0] for r in rows)
        return shared

    def leads_by_field(self, name: str, values: Iterable[str]) -> dict[str, list[Lead]]:
        path = f'$."{checked_field_name(name)}"'
        column = f"CAST(json_extract(attrs, '{path}') AS TEXT)"
        found: dict[str, list[Lead]] = {}
        for lead in sorted(self._select_in(column, list(set(values))), key=lambda x: -x.id):
            key = field_text(lead.values.get(name))
            if key is not None:
                found.setdefault(key, []).append(lead)
        return found

    def count_leads(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM leads").fetchone()[0])


class _SQLiteWriter(LeadApiWrites, _SQLiteReader, LeadWriter):
    def save_job_state(
        self, job_id: int, owner: str, state: dict[str, Any], lease_until: datetime
    ) -> bool:
        return save_job_state(self.conn, "?", job_id, owner, state, to_us(lease_until))

    def lock_keys(
        self, email_keys: Iterable[str], foreign_ids: Iterable[str], cookies: Iterable[str] = ()
    ) -> None:
        # BEGIN IMMEDIATE already holds the database's single write lock.
        return None

    def allocate_ids(self, count: int) -> list[int]:
        if count <= 0:
            return []
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'leads'").fetchone()
        start = (row[0] if row else 0) + 1
        # Inserting explicit ids advances sqlite_sequence, so these are never handed out again.
        return list(range(start, start + count))

    def insert_leads(self, leads: Sequence[Lead]) -> None:
        # The values go inside the JSON array of rows, which SQLite stores as their text.
        _INSERT_LEADS.run(self.conn, [_lead_params(lead, lead.values) for lead in leads])

    def update_leads(self, leads: Sequence[Lead]) -> None:
        _UPDATE_LEADS.run(self.conn, map(_update_params, leads))


_INSERT_LEADS = JsonInsert(
    "leads",
    (
        "id",
        "email",
        "email_key",
        "fsp_id",
        "fsp_type",
        "cookie",
        "attrs",
        "created_at",
        "updated_at",
    ),
)
_UPDATE_LEADS = SparseUpdate(
    "leads",
    ("email", "email_key", "fsp_id", "fsp_type", "cookie", "attrs", "updated_at"),
    key="id",
)


def _lead_params(lead: Lead, attrs: object) -> tuple[Any, ...]:
    """A lead's columns in ``_INSERT_LEADS`` order, ``attrs`` standing for its values."""
    return (
        lead.id,
        lead.email,
        email_key(lead.email) if lead.email else None,
        lead.foreign_sys_person_id,
        lead.foreign_sys_type,
        lead.cookie,
        attrs,
        to_us(lead.created_at),
        to_us(lead.updated_at),
    )


def _update_params(lead: Lead) -> tuple[Any, ...]:
    """``_UPDATE_LEADS``' values for ``lead``: all but its id and creation, then its id."""
    params = _lead_params(lead, orjson.dumps(lead.values).decode())
    return (*params[1:7], params[8], lead.id)


class SQLiteStore(Store):
    features = StoreFeatures(concurrent_writers=False, embedded=True)

    def __init__(self, url: str, *, create: bool = True) -> None:
        """``create``: the file may be created. Without it a missing file, or one without
        leadsync's schema, raises ``SchemaMissing`` before anything is written to it."""
        self.url = url
        self.path = path_from_url(url)
        if not create and not self.path.exists():
            raise SchemaMissing(
                f"no leadsync database at {self.path}; run 'leadsync db upgrade' to create it"
            )
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._limits: SQLiteLimits | None = None
        self._limits_lock = threading.Lock()
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        with self._errors():
            self._writer = self._connect()
            try:
                self._check_writer(create)
            except BaseException:
                self._writer.close()
                raise
        self._checkpointer = Checkpointer(self._connect)

    def _check_writer(self, create: bool) -> None:
        """The file is a database fit for leadsync (or may become one), in WAL mode."""
        try:
            # Batches are read and written as JSON arrays (built in since SQLite 3.38).
            self._writer.execute("SELECT json_array()")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(
                f"SQLite {sqlite3.sqlite_version} was built without its JSON functions,"
                " which leadsync needs: use a build with JSON1 (any 3.38 or newer)"
            ) from exc
        if not create and not _has_version_table(self._writer):
            raise SchemaMissing(
                f"{self.path} holds no leadsync schema (is it the right file?); "
                "run 'leadsync db upgrade' to create it"
            )
        self._writer.execute("PRAGMA journal_mode = WAL")
        self._writer.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")

    # -- connections ----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        parent = self.path.parent
        if not parent.is_dir():
            raise StoreUnavailable(
                f"cannot open database {self.path}: folder {parent} does not exist"
            )
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            # NORMAL in WAL mode survives a killed process; only power loss can drop the
            # last commits (docs/deployment.md).
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open database {self.path}: {exc}") from exc
        with self._conns_lock:
            self._all_conns.append(conn)
        return conn

    def _reader_conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        if self._limits is not None:
            self._limits.close()
        self._checkpointer.close()
        with self._conns_lock:
            conns, self._all_conns = self._all_conns, []
        for conn in conns:
            conn.close()

    def _errors(self) -> AbstractContextManager[None]:
        return driver_errors(f"SQLite database {self.path}", (sqlite3.Error,))

    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        """One read-only statement's rows, on this thread's reader connection."""
        with self._errors():
            return self._reader_conn().execute(query, params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self._errors():
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"database {self.path} is not writable: {exc}") from exc
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._checkpointer.committed()

    # -- schema ---------------------------------------------------------------------------
    def _current_version(self, conn: sqlite3.Connection, *, create: bool) -> int:
        if not _has_version_table(conn):
            if not create:
                return 0
            conn.execute(
                "CREATE TABLE schema_migrations"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def schema_version(self) -> int:
        # A read: asking for the version writes nothing, not even the version table.
        with self.read():
            current = self._current_version(self._reader_conn(), create=False)
        check_version("sqlite", current, require_latest=True)
        return current

    def migrate(self) -> list[int]:
        applied: list[int] = []
        with self._transaction() as conn:
            current = self._current_version(conn, create=True)
            check_version("sqlite", current, require_latest=False)
            for migration in load_migrations("sqlite"):
                if migration.version <= current:
                    continue
                for statement in _split_sql(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, now_us()),
                )
                applied.append(migration.version)
        return applied

    # -- users ----------------------------------------------------------------------------
    def add_user(self, user_id: str, encryption_key: str) -> ApiUser:
        created = now_us()
        with self._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO api_users (user_id, encryption_key, created_at) VALUES (?, ?, ?)",
                    (user_id, encryption_key, created),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(f"API user {user_id!r} exists already") from exc
        return ApiUser(user_id, encryption_key, from_us(created))

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
        until = to_us(previous_until) if previous_until is not None else None
        with self._transaction() as conn:
            # The right-hand encryption_key is the row's value before this update.
            conn.execute(
                "UPDATE api_users SET previous_key = CASE WHEN ? IS NULL THEN NULL"
                " ELSE encryption_key END, previous_key_until = ?, encryption_key = ?"
                " WHERE user_id = ?",
                (until, until, encryption_key, user_id),
            )
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM api_users WHERE user_id = ?", (user_id,)
            ).fetchone()
        return _row_to_user(row) if row else None

    def remove_user(self, user_id: str) -> bool:
        with self._transaction() as conn:
            cur = conn.execute("DELETE FROM api_users WHERE user_id = ?", (user_id,))
            return cur.rowcount > 0

    # -- fields ---------------------------------------------------------------------------
    def custom_fields(self) -> list[FieldDef]:
        rows = self._fetch("SELECT name, type FROM custom_fields ORDER BY name")
        return [FieldDef(r[0], FieldType(r[1]), custom=True) for r in rows]

    def add_custom_field(self, field: FieldDef) -> None:
        with self._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO custom_fields (name, type, created_at) VALUES (?, ?, ?)",
                    (field.name, field.type.value, now_us()),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(f"field {field.name!r} exists already") from exc

    # -- static lists ---------------------------------------------------------------------
    def add_static_list(self, name: str) -> StaticList:
        with self._transaction() as conn:
            return add_static_list(conn, name, now_us())

    def static_lists(self) -> list[StaticList]:
        with self._errors():
            return static_lists(self._reader_conn())

    # -- call limits, fault rules, reset -------------------------------------------------
    def limits(self) -> LimitStore:
        # One part for the store's life: its usage counts wait in it (store/usage_batch.py).
        with self._limits_lock:
            if self._limits is None:
                self._limits = SQLiteLimits(self)
            return self._limits

    def faults(self) -> FaultStore:
        return SQLiteFaults(self)

    def calls(self) -> CallStore:
        return SQLiteCalls(self)

    def services(self) -> ServiceStore:
        return SQLiteServices(self)

    def console(self) -> ConsoleStore:
        return SQLiteConsole(self)

    def jobs(self) -> JobStore:
        return SqlJobs(self._transaction, self._fetch)

    def bridge(self) -> BridgeStore:
        return SQLiteBridge(self)

    def reset_leads(self) -> int:
        return reset_leads(self)

    # -- leads ----------------------------------------------------------------------------
    def write(self) -> AbstractContextManager[LeadWriter]:
        @contextmanager
        def writer() -> Iterator[LeadWriter]:
            with self._transaction() as conn:
                yield _SQLiteWriter(conn)

        return writer()

    def read(self) -> AbstractContextManager[LeadReader]:
        @contextmanager
        def reader() -> Iterator[LeadReader]:
            with self._errors():
                conn = self._reader_conn()
                conn.execute("BEGIN")
                try:
                    yield _SQLiteReader(conn)
                finally:
                    conn.execute("COMMIT")

        return reader()


_USER_COLUMNS = "user_id, encryption_key, created_at, previous_key, previous_key_until"
#: A user's columns, then whether it exists: one row, with placeholders for an absent user.
_USER_LOOKUP = (
    "SELECT ?, coalesce(encryption_key, ''), coalesce(created_at, 0), previous_key,"
    " previous_key_until, api_users.user_id IS NOT NULL"
    " FROM (SELECT 1) LEFT JOIN api_users ON api_users.user_id = ?"
)


def _row_to_user(row: tuple[Any, ...]) -> ApiUser:
    until = from_us(row[4]) if row[4] is not None else None
    return ApiUser(row[0], row[1], from_us(row[2]), row[3], until)


def _has_version_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    return row is not None


def _split_sql(script: str) -> list[str]:
    """Statements of a migration file (they hold no semicolons inside literals)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
