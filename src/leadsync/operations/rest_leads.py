"""What the REST lead API reads: field names, filters, pages.

REST names fields in camel case (``firstName``) where SOAP says ``FirstName``; both come
from the one field catalogue. A few REST fields are the lead's own columns rather than
catalogue fields.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from leadsync.errors import (
    FieldNotFound,
    FieldNotSupported,
    InvalidData,
    InvalidValue,
    MissingParameter,
    RestLeadNotFound,
)
from leadsync.model import FieldDef, FieldType, Lead, LeadKeyType, Value
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.keys import find_leads
from leadsync.store.base import LeadReader, Store

#: REST fields that are the lead's own columns: (REST name, Marketo id, display name,
#: dataType, read-only, SOAP name or "").
SYSTEM_FIELDS: tuple[tuple[str, int, str, str, bool, str], ...] = (
    ("id", 44, "Id", "integer", True, "Id"),
    ("email", 56, "Email Address", "email", False, "Email"),
    ("createdAt", 130, "Created At", "datetime", True, ""),
    ("updatedAt", 131, "Updated At", "datetime", True, ""),
    ("cookies", 136, "Cookies", "string", False, ""),
    ("leadPartitionId", 479, "Lead Partition Id", "reference", False, "Lead Partition ID"),
)
_SYSTEM = {name for name, *_ in SYSTEM_FIELDS}
_SYSTEM_FOLDED = {name.casefold(): name for name in _SYSTEM}
#: The fields a read returns when it names none.
DEFAULT_FIELDS = ("id", "email", "updatedAt", "createdAt", "firstName", "lastName")
#: The one partition leadsync has.
DEFAULT_PARTITION_ID = 1
DEFAULT_PARTITION = "Default"

MAX_FILTER_VALUES = 300
MAX_FILTER_MATCHES = 1000
MAX_BATCH = 300

#: filterType -> how leadsync looks it up. The Salesforce lead and contact ids are the
#: lead's foreign-system id, as in SOAP (operations/keys.py).
_FILTER_KEYS = {
    "id": LeadKeyType.IDNUM,
    "email": LeadKeyType.EMAIL,
    "cookies": LeadKeyType.COOKIE,
    "sfdcLeadId": LeadKeyType.SFDCLEADID,
    "sfdcContactId": LeadKeyType.SFDCCONTACTID,
}
#: Filter types Marketo accepts that name things leadsync does not hold: they match nothing.
_EMPTY_FILTERS = frozenset(
    {
        "sfdcAccountId",
        "sfdcLeadOwnerId",
        "sfdcOpptyId",
        "twitterId",
        "facebookId",
        "linkedInId",
        "leadPartitionId",
    }
)
_FILTER_FOLDED = {name.casefold(): name for name in (*_FILTER_KEYS, *_EMPTY_FILTERS)}


def searchable_fields(catalogue: FieldCatalogue) -> list[str]:
    """The filter types that can match leads here (describe2's ``searchableFields``)."""
    custom = [f.name for f in catalogue.all() if custom_key(catalogue, f.rest_name or f.name) is f]
    return [*_FILTER_KEYS, *custom]


def iso(value: datetime) -> str:
    """A time as REST writes it: ``2021-11-23T22:57:08Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field as a REST read names it: a lead column (``system``) or a catalogue field."""

    rest_name: str
    system: str | None = None
    field: FieldDef | None = None


def resolve_fields(catalogue: FieldCatalogue, names: Sequence[str] | None) -> list[FieldRef]:
    """The fields a read returns, in the order asked; 1006 for an unknown one."""
    wanted = list(names) if names else list(DEFAULT_FIELDS)
    refs = []
    for raw in wanted:
        name = raw.strip()
        if not name:
            continue
        system = _SYSTEM_FOLDED.get(name.casefold())
        if system is not None:
            refs.append(FieldRef(name, system=system))
            continue
        fdef = catalogue.by_rest_name(name)
        if fdef is None:
            raise FieldNotFound(f"Field '{name}' not found")
        refs.append(FieldRef(name, field=fdef))
    return refs


def read_fields(catalogue: FieldCatalogue, names: Sequence[str] | None) -> list[FieldRef]:
    """The fields a lead read answers with: those asked (``resolve_fields``), and the lead's
    id first when they do not name it, as Marketo does (``GET /rest/v1/lead/1.json?fields=
    email`` answers ``{"id": 1, "email": …}``)."""
    refs = resolve_fields(catalogue, names)
    if all(ref.system != "id" for ref in refs):
        refs.insert(0, FieldRef("id", system="id"))
    return refs


def lead_values(lead: Lead, refs: Sequence[FieldRef]) -> dict[str, Value]:
    """The lead's value of each field by the name it was asked by; None where empty."""
    out: dict[str, Value] = {}
    values = lead.values
    for ref in refs:
        if ref.field is not None:
            value = values.get(ref.field.name)
            if value is not None and ref.field.type is FieldType.INTEGER:
                value = int(value)
            out[ref.rest_name] = value
        elif ref.system == "id":
            out[ref.rest_name] = lead.id
        elif ref.system == "email":
            out[ref.rest_name] = lead.email
        elif ref.system == "createdAt":
            out[ref.rest_name] = iso(lead.created_at)
        elif ref.system == "updatedAt":
            out[ref.rest_name] = iso(lead.updated_at)
        elif ref.system == "cookies":
            out[ref.rest_name] = lead.cookie
        else:
            out[ref.rest_name] = DEFAULT_PARTITION_ID
    return out


#: Custom field types REST may search and look up by (its docs: string, email, integer).
SEARCHABLE_TYPES = frozenset({FieldType.STRING, FieldType.EMAIL, FieldType.INTEGER})


def custom_key(catalogue: FieldCatalogue, name: str) -> FieldDef | None:
    """The custom field ``name`` names when REST may search by it."""
    fdef = catalogue.by_rest_name(name)
    if fdef is not None and fdef.custom and fdef.type in SEARCHABLE_TYPES:
        return fdef
    return None


def filter_type(catalogue: FieldCatalogue, name: str | None) -> str | FieldDef:
    """The canonical filterType, or the custom field it names; 1011 for one that cannot be
    searched."""
    if name is None or not name.strip():
        raise MissingParameter("filterType cannot be blank")
    found = _FILTER_FOLDED.get(name.strip().casefold())
    if found is not None:
        return found
    custom = custom_key(catalogue, name.strip())
    if custom is None:
        raise FieldNotSupported(f"Lookup field '{name.strip()}' not supported")
    return custom


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a read in id order; ``next_token`` while more follow."""

    items: list[T]
    next_token: str | None


def page_of(found: Sequence[T], batch: int, key: Callable[[T], int]) -> Page[T]:
    """The first ``batch`` of ``found`` (which may hold one more, to tell that more follow)."""
    page = list(found[:batch])
    more = len(found) > batch
    return Page(page, encode_page_token(key(page[-1])) if more and page else None)


def leads_by_filter(
    store: Store,
    catalogue: FieldCatalogue,
    type_name: str | None,
    values: Sequence[str],
    batch_size: int,
    page_token: str | None,
) -> Page[Lead]:
    """Leads whose ``filterType`` field has one of ``values``, by id, one page at a time."""
    kind = filter_type(catalogue, type_name)
    if not values:
        raise MissingParameter("filterValues cannot be blank")
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidData(f"Too many values in filterValues: at most {MAX_FILTER_VALUES}")
    after = decode_page_token(page_token)
    with store.read() as reader:
        matched = _match(reader, kind, values)
    if len(matched) > MAX_FILTER_MATCHES:
        raise InvalidData("Too many results match the filter")
    remaining = [lead for lead in matched if lead.id > after]
    return page_of(remaining, batch_size, _lead_id)


def _lead_id(lead: Lead) -> int:
    return lead.id


def _match(reader: LeadReader, kind: str | FieldDef, values: Sequence[str]) -> list[Lead]:
    wanted = list(dict.fromkeys(values))
    if isinstance(kind, FieldDef):
        found = reader.leads_by_field(kind.name, wanted)
    else:
        key_type = _FILTER_KEYS.get(kind)
        if key_type is None:
            return []
        found = find_leads(reader, key_type, wanted)
    by_id = {lead.id: lead for leads in found.values() for lead in leads}
    return [by_id[i] for i in sorted(by_id)]


def batch_size(text: str | None) -> int:
    if text is None or not text.strip():
        return MAX_BATCH
    try:
        size = int(text.strip())
    except ValueError:
        raise InvalidValue(f"Invalid value '{text}'. Required of type 'Integer'") from None
    if not 0 < size <= MAX_BATCH:
        raise InvalidValue(f"batchSize must be between 1 and {MAX_BATCH}")
    return size


def encode_page_token(last_id: int) -> str:
    return base64.b32encode(f"lead,{last_id}".encode()).decode().rstrip("=")


def decode_page_token(token: str | None) -> int:
    """The id a page continues after (0 from the start); 1001 for a token not ours."""
    if token is None or not token.strip():
        return 0
    text = token.strip()
    try:
        kind, _, last = (
            base64.b32decode(text + "=" * (-len(text) % 8)).decode("ascii").partition(",")
        )
        if kind != "lead":
            raise ValueError(kind)
        return int(last)
    except (ValueError, UnicodeDecodeError):
        raise InvalidValue(f"Invalid value '{text}' for nextPageToken") from None


def lead_by_id(store: Store, lead_id: str) -> Lead | None:
    text = lead_id.strip()
    if not text.isdigit() or int(text) >= 2**63:
        raise InvalidValue(f"Invalid value '{text}'. Required of type 'Integer'")
    with store.read() as reader:
        return reader.leads_by_ids([int(text)]).get(int(text))


@dataclass(frozen=True, slots=True)
class Membership:
    list_id: int
    created_at: datetime
    updated_at: datetime


def memberships(store: Store, lead_id: int, after: int, batch: int) -> Page[Membership]:
    """The static lists a lead belongs to, by list id: ``createdAt`` is the list's creation,
    ``updatedAt`` when the lead joined it."""
    with store.read() as reader:
        if reader.leads_by_ids([lead_id]).get(lead_id) is None:
            raise RestLeadNotFound(f"Lead not found: {lead_id}")
        found = [
            Membership(list_id, added, added)
            for list_id, added in reader.memberships(lead_id)
            if list_id > after
        ]
        page = page_of(found, batch, _list_id)
        items = []
        for item in page.items:
            static_list = reader.static_list(list_id=item.list_id)
            created = static_list.created_at if static_list is not None else item.created_at
            items.append(Membership(item.list_id, created, item.updated_at))
    return Page(items, page.next_token)


def _list_id(item: Membership) -> int:
    return item.list_id
