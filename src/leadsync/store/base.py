"""The storage contract. Each backend implements it; operations/ depends on nothing else.

Writes happen inside ``Store.write()``: one atomic transaction that either commits every
change of a call or none. Backends serialise or lock so that two calls deduping the same
email never both create a lead (see ``LeadWriter.lock_keys``).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TypeVar

from leadsync.model import ApiUser, FieldDef, Lead

T = TypeVar("T")


class AlreadyExists(Exception):
    """A user, field or list with that name exists already."""


class SchemaTooNew(Exception):
    """The database was migrated by a newer leadsync than this one."""


class SchemaTooOld(Exception):
    """The database needs migrations that were not applied (``leadsync db upgrade``)."""


@dataclass(frozen=True, slots=True)
class StoreFeatures:
    """What differs between backends, as flags rather than ``isinstance`` checks."""

    #: Several processes may write at once (PostgreSQL), so keys must be locked explicitly.
    concurrent_writers: bool
    #: The backend lives in one file on this machine.
    embedded: bool


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
    def count_leads(self) -> int: ...


class LeadWriter(LeadReader):
    """One write transaction."""

    @abc.abstractmethod
    def lock_keys(self, email_keys: Iterable[str], foreign_ids: Iterable[str]) -> None:
        """Hold these keys until commit, so concurrent calls cannot both create them."""

    @abc.abstractmethod
    def allocate_ids(self, count: int) -> list[int]:
        """Reserve ``count`` new, never reused, increasing lead ids."""

    @abc.abstractmethod
    def insert_leads(self, leads: Sequence[Lead]) -> None: ...

    @abc.abstractmethod
    def update_leads(self, leads: Sequence[Lead]) -> None: ...


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
    def get_user(self, user_id: str) -> ApiUser | None: ...

    @abc.abstractmethod
    def list_users(self) -> list[ApiUser]: ...

    @abc.abstractmethod
    def remove_user(self, user_id: str) -> bool: ...

    # -- custom lead fields ---------------------------------------------------------------
    @abc.abstractmethod
    def custom_fields(self) -> list[FieldDef]: ...

    @abc.abstractmethod
    def add_custom_field(self, field: FieldDef) -> None: ...

    # -- leads ----------------------------------------------------------------------------
    @abc.abstractmethod
    def write(self) -> AbstractContextManager[LeadWriter]:
        """One atomic write transaction; leaving by exception rolls everything back."""

    @abc.abstractmethod
    def read(self) -> AbstractContextManager[LeadReader]: ...


def email_key(email: str) -> str:
    """The form in which emails are compared: trimmed and case-folded."""
    return email.strip().casefold()


def iter_chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` items, to keep SQL parameter lists bounded."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
