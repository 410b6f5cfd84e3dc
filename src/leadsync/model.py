"""Plain data shared by every layer: leads, keys, fields, statuses, API users."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

#: A stored field value, already converted to its field's type. Dates and datetimes are kept
#: as ISO-8601 text so that every backend stores and compares them the same way.
Value = str | int | float | bool | None


class FieldType(enum.StrEnum):
    """Marketo's attrType / dataType vocabulary (docs/compatibility.md, "Field types")."""

    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    CURRENCY = "currency"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    SCORE = "score"
    PERCENT = "percent"


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    type: FieldType
    custom: bool = False
    #: A display name, as describeMObject shows it.
    display_name: str = ""
    #: The REST API's name for it (``firstName``); empty for a field REST does not show.
    #: Custom fields use ``name`` on both APIs.
    rest_name: str = ""
    #: Marketo's field id (Describe Lead's ``id``); 0 when leadsync assigns one.
    field_id: int = 0


class ForeignSysType(enum.StrEnum):
    CUSTOM = "CUSTOM"
    SFDC = "SFDC"
    NETSUITE = "NETSUITE"


class SyncOutcome(enum.StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    FAILED = "FAILED"


class SkipReason(enum.StrEnum):
    """Why a synced record was not written, as the REST API's record-level code says it."""

    INVALID_VALUE = "1003"
    NOT_FOUND = "1004"
    EXISTS = "1005"
    UNKNOWN_FIELD = "1006"
    AMBIGUOUS = "1007"
    PARTITION = "1008"


#: One attribute of a record as the client sent it: (name, value). A plain tuple: thousands
#: are built per call, and the C reader of lead records builds them directly.
Attribute = tuple[str, str]


@dataclass(slots=True)
class LeadInput:
    """One ``leadRecord`` as a client sent it, before any matching or typing."""

    id: int | None = None
    email: str | None = None
    foreign_sys_person_id: str | None = None
    foreign_sys_type: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    #: Values of plain text fields the reader already typed, by field name: the text as
    #: sent, None when blank (what the sync would make of those attributes). The sync takes
    #: this dict over and applies ``attributes`` after it.
    typed: dict[str, Value] = field(default_factory=dict)
    #: The Munchkin cookie (syncLead only).
    cookie: str | None = None
    #: A problem found while decoding this record alone (for example ``<Id>abc</Id>``); the
    #: record is reported FAILED with it instead of faulting the whole call.
    decode_error: str | None = None
    #: Why, in the REST API's terms (an invalid value when not given).
    decode_reason: SkipReason | None = None


@dataclass(slots=True)
class Lead:
    """A stored lead. ``values`` holds every attribute but Email, by canonical field name."""

    id: int
    email: str | None
    foreign_sys_person_id: str | None
    foreign_sys_type: str | None
    values: dict[str, Value]
    created_at: datetime
    updated_at: datetime
    cookie: str | None = None


# Not frozen: one is made per record of every sync, and a frozen dataclass's __init__ costs
# twice as much. Nothing changes a status once made.
@dataclass(slots=True)
class RecordStatus:
    lead_id: int
    status: SyncOutcome
    error: str | None = None
    #: For FAILED records: the REST API's reason, and the (field name, value as sent) it
    #: concerns, when it concerns one.
    reason: SkipReason | None = None
    subject: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ApiUser:
    user_id: str
    encryption_key: str
    created_at: datetime
    #: The key before the last rotation, still accepted until ``previous_key_until``.
    previous_key: str | None = None
    previous_key_until: datetime | None = None

    def grace_key(self, now: datetime) -> str | None:
        """The key a rotation replaced, while its grace period lasts (``users rotate-key``)."""
        until = self.previous_key_until
        if self.previous_key and until is not None and now < until:
            return self.previous_key
        return None


class LeadKeyType(enum.StrEnum):
    """How a lead is named in getLead, getMultipleLeads, mergeLeads... (WSDL ``LeadKeyRef``)."""

    IDNUM = "IDNUM"
    COOKIE = "COOKIE"
    EMAIL = "EMAIL"
    LEADOWNEREMAIL = "LEADOWNEREMAIL"
    SFDCACCOUNTID = "SFDCACCOUNTID"
    SFDCCONTACTID = "SFDCCONTACTID"
    SFDCLEADID = "SFDCLEADID"
    SFDCLEADOWNERID = "SFDCLEADOWNERID"
    SFDCOPPTYID = "SFDCOPPTYID"


@dataclass(frozen=True, slots=True)
class StaticList:
    id: int
    name: str
    created_at: datetime
    #: Filled in by listings; lookups leave it at 0.
    members: int = 0


# Not frozen, like RecordStatus: every new lead records one in the sync's hot path.
@dataclass(slots=True)
class Activity:
    """One entry of a lead's activity history. ``id`` is 0 until the store assigns one."""

    id: int
    lead_id: int
    #: The WSDL ``ActivityType`` name (``NewLead``); the display name is derived from it.
    type: str
    created_at: datetime
    asset_name: str | None
    #: (name, value) pairs in the order they are shown.
    attributes: tuple[tuple[str, str], ...]
    campaign: str | None = None


@dataclass(frozen=True, slots=True)
class ApiService:
    """A REST API client: Marketo's "custom service", a client id and its secret."""

    client_id: str
    name: str
    client_secret: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A REST access token issued to a service by the identity endpoint."""

    token: str
    client_id: str
    expires_at: datetime
