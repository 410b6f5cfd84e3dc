"""The client's plain data: leads, per-record results, field descriptions, selectors."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

#: What an attribute value may be on the way in; it is sent as text.
AttrValue = str | int | float | bool | Decimal | date | datetime | None

#: The four LeadRecord elements that are keys rather than attributes (docs/compatibility.md,
#: "Lead keys").
KEY_FIELDS = ("Id", "Email", "ForeignSysPersonId", "ForeignSysType")
FOREIGN_SYS_TYPES = ("CUSTOM", "SFDC", "NETSUITE")

_KEYS_FOLDED = {name.casefold(): name for name in KEY_FIELDS}


class SyncStatus(enum.StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    FAILED = "FAILED"
    #: The call carrying this record was cut off after it was sent, and resending it could
    #: have created a duplicate (``dedup=False``), so the record was not sent again.
    UNKNOWN = "UNKNOWN"


@dataclass(slots=True)
class Lead:
    """One LeadRecord.

    ``email`` is the top-level ``<Email>``: a lookup key. Marketo writes it to the lead only
    when no other key matched; to change the email of a lead found by ``id`` or
    ``foreign_sys_person_id``, also put ``Email`` in ``attributes``. ``Lead.from_mapping``
    does that for you.
    """

    id: int | None = None
    email: str | None = None
    foreign_sys_person_id: str | None = None
    foreign_sys_type: str | None = None
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    #: The attrType of each attribute, as the server reported it (leads read back only).
    attribute_types: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Lead:
        """A lead from ``{"Email": ..., "FirstName": ...}``.

        ``Id``, ``Email``, ``ForeignSysPersonId`` and ``ForeignSysType`` (any case) are the
        record's keys, every other entry an attribute. ``None`` values are left out; an empty
        string is sent and clears the field. When ``Email`` comes with ``Id`` or
        ``ForeignSysPersonId`` it is also sent as an attribute, so the lead's email follows
        the record as the mapping's reader would expect.
        """
        lead = cls()
        for name, value in data.items():
            if value is None:
                continue
            key = _KEYS_FOLDED.get(name.casefold())
            if key == "Id":
                lead.id = _as_int(value)
            elif key == "Email":
                lead.email = str(value)
            elif key == "ForeignSysPersonId":
                lead.foreign_sys_person_id = str(value)
            elif key == "ForeignSysType":
                lead.foreign_sys_type = str(value)
            else:
                lead.attributes[name] = _as_attr(name, value)
        if lead.email is not None and (lead.id is not None or lead.foreign_sys_person_id):
            lead.attributes.setdefault("Email", lead.email)
        return lead


def _as_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("Id must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"Id must be an integer: {value!r}") from None
    raise ValueError(f"Id must be an integer: {value!r}")


def _as_attr(name: str, value: object) -> AttrValue:
    if isinstance(value, str | int | float | bool | Decimal | date | datetime):
        return value
    raise ValueError(f"attribute {name} has a value of type {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What happened to one input record."""

    status: SyncStatus
    #: The lead the record created or updated; None when it failed.
    lead_id: int | None
    error: str | None = None
    #: Calls that carried this record (0: it never left the client).
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.status in (SyncStatus.CREATED, SyncStatus.UPDATED)


@dataclass(frozen=True, slots=True)
class SyncLeadResult:
    """syncLead's answer: the outcome, and the lead as stored when it was asked for."""

    result: SyncResult
    lead: Lead | None = None


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One lead field as describeMObject(LeadRecord) reports it (docs/compatibility.md,
    "describeMObject, listMObjects")."""

    name: str
    data_type: str
    display_name: str | None = None
    description: str | None = None
    size: int | None = None
    is_readonly: bool = False
    is_update_blocked: bool = False
    is_custom: bool = False


@dataclass(frozen=True, slots=True)
class LeadKeySelector:
    """Leads by key: ``keyType`` is one of getLead's LeadKeyRef values (IDNUM, EMAIL, ...)."""

    key_type: str
    key_values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StaticListSelector:
    name: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class LastUpdateAtSelector:
    """Leads updated since ``oldest`` (and until ``latest``, when given)."""

    oldest: datetime
    latest: datetime | None = None


LeadSelector = LeadKeySelector | StaticListSelector | LastUpdateAtSelector
