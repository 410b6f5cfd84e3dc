"""REST activities over the one history SOAP's getLeadActivity and getLeadChanges
read: Marketo's activity type ids, date paging tokens, lead changes, deleted leads.

A paging token is, as Marketo's old ones were, base32 of ``"<ISO date-time>,<last id>"``:
the reads continue after that activity, among those created since that time.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadsync.errors import InvalidData, InvalidValue, MissingParameter
from leadsync.model import Activity, FieldDef
from leadsync.operations.activities import ActivityKind, presented
from leadsync.operations.fields import FieldCatalogue, parse_datetime
from leadsync.operations.rest_leads import iso
from leadsync.store.base import ActivityQuery, Store

MAX_TYPE_IDS = 10
MAX_LEAD_IDS = 30
MAX_BATCH = 300
#: ISO 8601 as Marketo takes it: a date, optionally a time, optionally an offset. Python's
#: own parser is more lenient (``2015-04-0113`` would pass).
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)


@dataclass(frozen=True, slots=True)
class ActivityType:
    id: int
    kind: ActivityKind
    name: str
    description: str
    #: (name, dataType) of the primary attribute, when the type has one.
    primary: tuple[str, str] | None
    attributes: tuple[tuple[str, str], ...]


#: The types leadsync records, with Marketo's ids.
ACTIVITY_TYPES: tuple[ActivityType, ...] = (
    ActivityType(
        12,
        ActivityKind.NEW_LEAD,
        "New Lead",
        "New person/record is added to the lead database",
        None,
        (("Source Type", "string"), ("Source Info", "string"), ("Created Date", "date")),
    ),
    ActivityType(
        13,
        ActivityKind.CHANGE_DATA_VALUE,
        "Change Data Value",
        "Changed attribute value for a person",
        ("Attribute Name", "integer"),
        (("New Value", "text"), ("Old Value", "text"), ("Reason", "text")),
    ),
    ActivityType(
        24,
        ActivityKind.ADD_TO_LIST,
        "Add to List",
        "Add a person to a static list",
        ("List ID", "integer"),
        (("Source", "string"),),
    ),
    ActivityType(
        25,
        ActivityKind.REMOVE_FROM_LIST,
        "Remove from List",
        "Remove a person from a static list",
        ("List ID", "integer"),
        (("Source", "string"),),
    ),
    ActivityType(
        32,
        ActivityKind.MERGE_LEADS,
        "Merge Leads",
        "Merge two or more people",
        ("Lead ID", "integer"),
        (("Merge IDs", "string"), ("Merge Source", "string"), ("Merged in Sales", "boolean")),
    ),
    ActivityType(
        37,
        ActivityKind.DELETE_LEAD,
        "Delete Lead",
        "Delete a person from the lead database",
        ("Lead ID", "integer"),
        (),
    ),
)
_BY_ID = {t.id: t for t in ACTIVITY_TYPES}
_BY_KIND = {t.kind.value: t for t in ACTIVITY_TYPES}
_HIDDEN = frozenset({"Lead ID", "Attribute Name", "List ID"})


# -- paging tokens ------------------------------------------------------------------------
def paging_token(since_text: str | None) -> str:
    """The token for activities since ``since_text``; 1001 for a date that is not one."""
    if since_text is None or not since_text.strip():
        raise MissingParameter("sinceDatetime cannot be blank")
    try:
        if not _DATETIME.match(since_text.strip()):
            raise ValueError(since_text)
        since = parse_datetime(since_text.strip(), "sinceDatetime")
    except ValueError:
        raise InvalidValue(f"Invalid value '{since_text}'. Required of type 'datetime'") from None
    return encode_token(since, 0)


def encode_token(since: datetime, last_id: int) -> str:
    utc = since.astimezone(UTC)
    stamp = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
    return base64.b32encode(f"{stamp},{last_id}".encode()).decode()


def decode_token(token: str | None) -> tuple[datetime, int]:
    if token is None or not token.strip():
        raise MissingParameter("nextPageToken cannot be blank")
    text = token.strip()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8)).decode("ascii")
        stamp, _, last = raw.rpartition(",")
        return parse_datetime(stamp, "nextPageToken"), int(last)
    except (ValueError, UnicodeDecodeError):
        raise InvalidValue(f"Invalid value '{text}' for nextPageToken") from None


# -- reads --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ActivityPage:
    activities: list[Activity]
    next_token: str
    more: bool


def _ids(texts: Sequence[str], what: str, most: int) -> list[int]:
    ids = []
    for text in texts:
        if not text.strip().isdigit() or len(text.strip()) > 18:
            raise InvalidValue(f"Invalid value '{text}'. Required of type 'Integer'")
        ids.append(int(text))
    if len(ids) > most:
        raise InvalidData(f"Too many values in {what}: at most {most}")
    return ids


def activities(
    store: Store,
    token: str | None,
    type_ids: Sequence[str],
    lead_ids: Sequence[str] = (),
    list_id: str | None = None,
    batch: int = MAX_BATCH,
) -> ActivityPage:
    since, last_id = decode_token(token)
    types = _ids(type_ids, "activityTypeIds", MAX_TYPE_IDS)
    if not types:
        raise MissingParameter("activityTypeIds cannot be blank")
    kinds = frozenset(_BY_ID[i].kind.value for i in types if i in _BY_ID)
    leads = _ids(lead_ids, "leadIds", MAX_LEAD_IDS)
    list_ids = _ids([list_id], "listId", 1) if list_id else []
    if not kinds:
        # Types leadsync never records: nothing to read.
        return ActivityPage([], encode_token(since, last_id), False)
    query = ActivityQuery(
        lead_ids=tuple(leads) or None,
        list_id=list_ids[0] if list_ids else None,
        types=kinds,
        created_from=since,
        after_id=last_id or None,
    )
    return _page(store, query, since, last_id, batch)


def deleted_leads(store: Store, token: str | None, batch: int = MAX_BATCH) -> ActivityPage:
    since, last_id = decode_token(token)
    query = ActivityQuery(
        types=frozenset({ActivityKind.DELETE_LEAD.value}),
        created_from=since,
        after_id=last_id or None,
    )
    return _page(store, query, since, last_id, batch)


def lead_changes(
    store: Store,
    catalogue: FieldCatalogue,
    token: str | None,
    fields: Sequence[str],
    lead_ids: Sequence[str] = (),
    list_id: str | None = None,
    batch: int = MAX_BATCH,
) -> tuple[ActivityPage, dict[str, FieldDef]]:
    """New Lead and Change Data Value activities; those of changes only for ``fields``
    (REST names). Also returns the changed fields by their history label."""
    if not fields:
        raise MissingParameter("fields cannot be blank")
    labels: dict[str, FieldDef] = {}
    for name in fields:
        fdef = catalogue.by_rest_name(name)
        if fdef is not None:
            labels[fdef.display_name or fdef.name] = fdef
    page = activities(
        store,
        token,
        ["12", "13"],
        lead_ids,
        list_id,
        batch=batch,
    )
    kept = [
        a
        for a in page.activities
        if a.type != ActivityKind.CHANGE_DATA_VALUE or (a.asset_name or "") in labels
    ]
    return ActivityPage(kept, page.next_token, page.more), labels


def _page(
    store: Store, query: ActivityQuery, since: datetime, last_id: int, batch: int
) -> ActivityPage:
    with store.read() as reader:
        found = reader.activities(query, batch + 1)
    page = found[:batch]
    more = len(found) > batch
    last = page[-1].id if page else last_id
    return ActivityPage([presented(a) for a in page], encode_token(since, last), more)


def type_of(activity: Activity) -> ActivityType:
    return _BY_KIND[activity.type]


def attributes_of(activity: Activity) -> list[tuple[str, str]]:
    """The attributes REST shows: those other than the primary one, non-empty."""
    return [(n, v) for n, v in activity.attributes if n not in _HIDDEN and v != ""]


def attribute(activity: Activity, name: str) -> str | None:
    for key, value in activity.attributes:
        if key == name:
            return value
    return None


def activity_record(
    activity: Activity, labels: dict[str, FieldDef] | None = None
) -> dict[str, Any]:
    """An activity as the REST reads return it; ``labels``: custom fields by the label a
    change activity names them with."""
    kind = type_of(activity)
    row: dict[str, Any] = {
        "id": activity.id,
        "marketoGUID": str(activity.id),
        "leadId": activity.lead_id,
        "activityDate": iso(activity.created_at),
        "activityTypeId": kind.id,
    }
    primary_id: int | None = None
    primary_value: str | None = None
    if kind.primary is not None:
        name = kind.primary[0]
        if name == "Attribute Name":
            label = activity.asset_name or ""
            fdef = (labels or {}).get(label)
            primary_id = fdef.field_id if fdef is not None and fdef.field_id else None
            primary_value = label
        elif name == "List ID":
            text = attribute(activity, "List ID")
            primary_id = int(text) if text and text.isdigit() else None
            primary_value = activity.asset_name
        else:
            primary_id = activity.lead_id
    if primary_id is not None:
        row["primaryAttributeValueId"] = primary_id
    if primary_value is not None:
        row["primaryAttributeValue"] = primary_value
    row["attributes"] = [{"name": n, "value": v} for n, v in attributes_of(activity)]
    return row


def type_kinds(type_ids: Sequence[int]) -> frozenset[str]:
    """The activity kinds (WSDL names) of the REST type ids leadsync records; others none."""
    return frozenset(_BY_ID[i].kind.value for i in type_ids if i in _BY_ID)
