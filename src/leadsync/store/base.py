"""The storage contract. Each backend implements it; operations/ depends on nothing else.

Writes happen inside ``Store.write()``: one atomic transaction that either commits every
change of a call or none. Backends serialise or lock so that two calls deduping the same
email never both create a lead (see ``LeadWriter.lock_keys``).

Backends raise only leadsync's own errors: ``AlreadyExists`` and the schema errors below,
and ``leadsync.errors.StoreError`` (``StoreUnavailable`` when the database cannot be reached)
for whatever their driver reports; ``driver_errors`` does the translation.

Time. Stores never read a clock for what a call records: operations read their
``leadsync.clock.Clock`` once, inside ``write()``, and pass the time in (``Lead.created_at`` /
``updated_at``, ``Activity.created_at``, the ``at`` arguments). What a backend may rely on:

* Activity ids grow in commit order (they are stream positions; see ``record_activities``).
* On a backend whose writes are serialised (``features.concurrent_writers`` false, SQLite),
  activities' ``created_at`` never decreases in id order. Operations make it so by reading
  the clock inside the write; because a wall clock may step back (NTP, a test clock's
  ``set``), ``record_activities`` on such a backend also records no activity earlier than
  the last one recorded. SQLite's "created since T" lookup binary-searches ids on it.
* With concurrent writers (PostgreSQL) nothing orders ``created_at`` against ids: two
  writes read the clock, then commit in either order. Lookups by time there use an index
  on ``created_at``, never the id order.
* Nothing relies on ``Lead.updated_at`` following ids: lead walks go by id and filter on it.
* Rows an operator creates (API users, custom fields, lists, applied migrations) are stamped
  by the store from ``leadsync.clock.SYSTEM_CLOCK``; nothing orders or filters on them.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from leadsync.errors import StoreError, StoreUnavailable
from leadsync.model import Activity, ApiUser, FieldDef, Lead, StaticList
from leadsync.store.calls import CallStore
from leadsync.store.control import FaultStore, LimitStore
from leadsync.store.jobs import JobStore
from leadsync.store.services import ServiceStore

if TYPE_CHECKING:
    from leadsync.store.bridge import BridgeStore
    from leadsync.store.console import ConsoleStore

T = TypeVar("T")


class AlreadyExists(Exception):
    """A user, field or list with that name exists already."""


class SchemaTooNew(Exception):
    """The database was migrated by a newer leadsync than this one."""


class SchemaTooOld(Exception):
    """The database needs migrations that were not applied (``leadsync db upgrade``)."""


class SchemaMissing(SchemaTooOld):
    """The database holds no leadsync schema at all (or, for SQLite, does not exist)."""


@contextmanager
def driver_errors(
    where: str,
    driver: tuple[type[Exception], ...],
    unavailable: tuple[type[Exception], ...] = (),
) -> Iterator[None]:
    """Runs its body with the driver's exceptions turned into leadsync's own: ``unavailable``
    ones (a lost connection) into ``StoreUnavailable``, the other ``driver`` ones into
    ``StoreError``, both saying ``where`` ("PostgreSQL at HOST:PORT/DB") and the driver's
    first line. Every backend method that reaches the driver runs inside it."""
    try:
        yield
    except unavailable as exc:
        raise StoreUnavailable(f"{where}: {first_line(exc)}") from exc
    except driver as exc:
        raise StoreError(f"{where}: {first_line(exc)}") from exc


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text (drivers add hints and context lines)."""
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


@dataclass(frozen=True, slots=True)
class StoreFeatures:
    """What differs between backends, as flags rather than ``isinstance`` checks."""

    #: Several processes may write at once (PostgreSQL), so keys must be locked explicitly.
    concurrent_writers: bool
    #: The backend lives in one file on this machine.
    embedded: bool


@dataclass(frozen=True, slots=True)
class LeadQuery:
    """A paged walk over leads in id order: those after ``after_id`` that match every filter.

    Walking by id, not by update time, is what keeps a stream from repeating a lead that is
    updated between two pages (its id does not move) or skipping one (see
    docs/compatibility.md).
    """

    after_id: int = 0
    #: Inclusive bounds on ``Lead.updated_at``.
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    #: Only members of this static list.
    list_id: int | None = None


@dataclass(frozen=True, slots=True)
class ActivityQuery:
    """Which activities a paged read returns. Ascending ids continue after ``after_id``;
    with ``newest_first`` they descend and continue below ``before_id``."""

    lead_ids: tuple[int, ...] | None = None
    #: Only activities of the current members of this static list.
    list_id: int | None = None
    #: Only these types (WSDL ``ActivityType`` names); None means every type.
    types: frozenset[str] | None = None
    exclude_types: frozenset[str] = frozenset()
    #: Inclusive bounds on ``Activity.created_at``.
    created_from: datetime | None = None
    created_to: datetime | None = None
    after_id: int | None = None
    before_id: int | None = None
    newest_first: bool = False


class LeadReader(abc.ABC):
    """Reads inside one consistent snapshot."""

    @abc.abstractmethod
    def leads_by_ids(self, ids: Iterable[int]) -> dict[int, Lead]: ...

    @abc.abstractmethod
    def leads_by_foreign_ids(self, foreign_ids: Iterable[str]) -> dict[str, Lead]: ...

    @abc.abstractmethod
    def leads_by_cookies(self, cookies: Iterable[str]) -> dict[str, Lead]: ...

    @abc.abstractmethod
    def newest_leads_by_email(self, email_keys: Iterable[str]) -> dict[str, Lead]:
        """The most recently created lead for each normalised email (see ``email_key``)."""

    @abc.abstractmethod
    def shared_email_keys(self, email_keys: Iterable[str]) -> set[str]:
        """Those of ``email_keys`` that more than one lead has."""

    @abc.abstractmethod
    def leads_by_field(self, name: str, values: Iterable[str]) -> dict[str, list[Lead]]:
        """Leads whose custom field ``name`` (a valid custom field name) holds one of
        ``values``, compared as text (an integer 7 is "7"), by value, newest first. Custom
        fields have no index: this reads every lead."""

    @abc.abstractmethod
    def count_leads(self) -> int: ...

    @abc.abstractmethod
    def leads_by_email(self, email_keys: Iterable[str]) -> dict[str, list[Lead]]:
        """Every lead for each normalised email, newest first."""

    @abc.abstractmethod
    def leads_page(self, query: LeadQuery, limit: int) -> list[Lead]:
        """At most ``limit`` leads matching ``query``, in ascending id order."""

    @abc.abstractmethod
    def count_leads_page(self, query: LeadQuery) -> int:
        """How many leads ``leads_page`` would walk through without a limit."""

    @abc.abstractmethod
    def static_list(
        self, *, name: str | None = None, list_id: int | None = None
    ) -> StaticList | None:
        """The list with this id, or with this name compared without regard to case."""

    @abc.abstractmethod
    def list_members(self, list_id: int, lead_ids: Iterable[int]) -> set[int]:
        """Those of ``lead_ids`` that belong to the list."""

    @abc.abstractmethod
    def memberships(self, lead_id: int) -> list[tuple[int, datetime]]:
        """The static lists the lead belongs to, as (list id, added at), by list id."""

    @abc.abstractmethod
    def activities(self, query: ActivityQuery, limit: int) -> list[Activity]:
        """At most ``limit`` activities matching ``query``, in its id order."""

    @abc.abstractmethod
    def count_activities(self, query: ActivityQuery) -> int:
        """How many activities ``activities`` would return without a limit."""


class LeadWriter(LeadReader):
    """One write transaction."""

    @abc.abstractmethod
    def lock_keys(
        self, email_keys: Iterable[str], foreign_ids: Iterable[str], cookies: Iterable[str] = ()
    ) -> None:
        """Hold these keys until commit, so concurrent calls cannot both create them."""

    @abc.abstractmethod
    def allocate_ids(self, count: int) -> list[int]:
        """Reserve ``count`` new, never reused, increasing lead ids."""

    @abc.abstractmethod
    def insert_leads(self, leads: Sequence[Lead]) -> None: ...

    @abc.abstractmethod
    def update_leads(self, leads: Sequence[Lead]) -> None: ...

    @abc.abstractmethod
    def record_activities(self, activities: Sequence[Activity]) -> None:
        """Append activities (their ``id`` is ignored; the store assigns increasing ids).

        Call it last in a write: activity ids are stream positions, so a backend with
        concurrent writers orders the writes that record history from here to their commit.
        A backend with serialised writes records no ``created_at`` earlier than the last
        activity's (see "Time" above).
        """

    @abc.abstractmethod
    def add_list_members(self, list_id: int, lead_ids: Sequence[int], at: datetime) -> list[int]:
        """Add existing leads to a list; returns those that were not members yet."""

    @abc.abstractmethod
    def remove_list_members(self, list_id: int, lead_ids: Sequence[int]) -> list[int]:
        """Returns those of ``lead_ids`` that were members and are not any more."""

    @abc.abstractmethod
    def delete_leads(self, lead_ids: Sequence[int]) -> list[int]:
        """Delete those of ``lead_ids`` that exist, with their list memberships; their
        history stays. Returns the ids deleted, in the order given."""

    @abc.abstractmethod
    def merge_leads(self, winner: Lead, loser_ids: Sequence[int], at: datetime) -> None:
        """Delete the losers, hand their history and list memberships to the winner, then
        store ``winner`` as given (it may take over a loser's unique keys)."""

    @abc.abstractmethod
    def save_job_state(
        self, job_id: int, owner: str, state: dict[str, Any], lease_until: datetime
    ) -> bool:
        """Record a bulk job's progress in this write and extend its lease (store/jobs.py);
        False when the job is no longer running under ``owner`` (the caller rolls back)."""


class Store(abc.ABC):
    """A lead database. Chosen by URL in ``leadsync.store.open_store``."""

    url: str
    features: StoreFeatures

    # -- schema ---------------------------------------------------------------------------
    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @abc.abstractmethod
    def migrate(self) -> list[int]:
        """Apply every migration not yet applied; return the versions applied."""

    @abc.abstractmethod
    def close(self) -> None: ...

    # -- API users ------------------------------------------------------------------------
    @abc.abstractmethod
    def add_user(self, user_id: str, encryption_key: str) -> ApiUser: ...

    @abc.abstractmethod
    def get_user(self, user_id: str) -> ApiUser | None:
        """The API user, or None. Takes the same work whether or not the user exists (one
        row either way, its columns converted alike), so that how long authentication takes
        does not tell which user ids exist (soap/auth.py)."""

    @abc.abstractmethod
    def list_users(self) -> list[ApiUser]: ...

    @abc.abstractmethod
    def remove_user(self, user_id: str) -> bool: ...

    @abc.abstractmethod
    def rotate_key(
        self, user_id: str, encryption_key: str, previous_until: datetime | None
    ) -> ApiUser | None:
        """Give the user ``encryption_key``; its current key becomes ``previous_key``, valid
        until ``previous_until`` (None: not at all). None when there is no such user."""

    # -- custom lead fields ---------------------------------------------------------------
    @abc.abstractmethod
    def custom_fields(self) -> list[FieldDef]: ...

    @abc.abstractmethod
    def add_custom_field(self, field: FieldDef) -> None: ...

    # -- static lists ---------------------------------------------------------------------
    @abc.abstractmethod
    def add_static_list(self, name: str) -> StaticList:
        """Raises AlreadyExists when a list has that name (compared without regard to case)."""

    @abc.abstractmethod
    def static_lists(self) -> list[StaticList]:
        """Every list with its member count, by name."""

    # -- call limits, fault rules, reset (docs/limits.md, docs/testing.md) ----------------
    @abc.abstractmethod
    def limits(self) -> LimitStore: ...

    @abc.abstractmethod
    def faults(self) -> FaultStore: ...

    # -- REST API services and their tokens (docs/rest.md) --------------------------------
    @abc.abstractmethod
    def services(self) -> ServiceStore: ...

    @abc.abstractmethod
    def calls(self) -> CallStore:
        """The calls history (store/calls.py)."""

    @abc.abstractmethod
    def jobs(self) -> JobStore:
        """Bulk jobs and their queue (store/jobs.py)."""

    @abc.abstractmethod
    def console(self) -> ConsoleStore:
        """The web console's users and reads (store/console.py)."""

    @abc.abstractmethod
    def bridge(self) -> BridgeStore:
        """Bridge mode's upstream token and journal (store/bridge.py)."""

    @abc.abstractmethod
    def reset_leads(self) -> int:
        """Delete every lead with its activities and list memberships, keeping users, fields
        and lists; returns how many leads there were."""

    # -- leads ----------------------------------------------------------------------------
    @abc.abstractmethod
    def write(self) -> AbstractContextManager[LeadWriter]:
        """One atomic write transaction; leaving by exception rolls everything back."""

    @abc.abstractmethod
    def read(self) -> AbstractContextManager[LeadReader]: ...


_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


def checked_field_name(name: str) -> str:
    """``name`` when it may stand in a statement as a JSON key (the custom field naming rule,
    operations/fields.py); ValueError otherwise. Backends check before they use one."""
    if not _FIELD_NAME.match(name):
        raise ValueError(f"not a field name: {name!r}")
    return name


def field_text(value: object) -> str | None:
    """A stored value as ``leads_by_field`` compares it."""
    if value is None or isinstance(value, bool):
        return None
    return str(value)


def email_key(email: str) -> str:
    """The form in which emails are compared: trimmed and case-folded."""
    return email.strip().casefold()


def iter_chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` items, to keep SQL parameter lists bounded."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def list_name_key(name: str) -> str:
    """The form in which static list names are compared: trimmed and case-folded."""
    return name.strip().casefold()
