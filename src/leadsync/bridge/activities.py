"""getLeadActivity and getLeadChanges through the upstream.

getLeadActivity: the lead found by its key, its activities read with Get Lead Activities (a
paging token from the start position's oldest time, at most ten activity types a call), then
paged as locally (``operations.history.activity_page``): newest first, below the ``ID:``
offset, within the start position's times. getLeadChanges: the same read for the leads of
its selector (keys, a list, or every lead), checked by the local rules
(``operations.history.changes_window``) and paged oldest first above the offset.

Activity types are matched by name: the upstream's (``Change Data Value``) is the display
name of a WSDL ActivityType; a type the WSDL does not name keeps the upstream's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from leadsync.bridge.fields import UpstreamFields
from leadsync.bridge.multiple import resolve_list
from leadsync.bridge.reads import find_leads
from leadsync.bridge.upstream import Upstream
from leadsync.model import Activity
from leadsync.operations import history, reads
from leadsync.operations.activities import DISPLAY_NAMES, ActivityKind, resolve_type_filter
from leadsync.operations.keys import LeadKey, not_found
from leadsync.operations.reads import batch_size
from leadsync.soap.activities import (
    activity_answer,
    changes_answer,
    read_activity_request,
    read_changes_request,
)
from leadsync.soap.handlers import CallContext, CallOutcome

#: Get Lead Activities takes at most ten activity type ids a call.
MAX_TYPES = 10
#: Get Lead Activities takes at most 30 lead ids a call.
MAX_LEAD_IDS = 30
#: Pages read for one call at most (300 activities each).
MAX_PAGES = 50
_EPOCH = "2000-01-01T00:00:00Z"
#: The attributes ``presented`` shows for a New Lead.
_PRESENTED = frozenset({"Source Type", "Source Info", "Created Date"})


def get_lead_activity(
    ctx: CallContext, upstream: Upstream, fields: UpstreamFields, foreign: str
) -> CallOutcome:
    key, types, start, requested = read_activity_request(ctx)
    size = batch_size(requested, history.DEFAULT_BATCH, history.ACTIVITY_BATCH_MAX)
    keep, drop = resolve_type_filter(types.include, types.exclude, types.names)
    before = history.parse_offset(start.offset)
    leads = find_leads(upstream, fields.current(), key, foreign)
    if not leads:
        raise not_found(key)
    lead_id = leads[0].id
    names = _type_names(upstream)
    wanted = [
        type_id
        for type_id, name in names.items()
        if (keep is None or name in keep) and name not in drop
    ]
    oldest = _later(start.oldest, start.activity_created)
    found: list[Activity] = []
    for first in range(0, len(wanted), MAX_TYPES):
        found += _read(upstream, [lead_id], wanted[first : first + MAX_TYPES], names, oldest)
    chosen = [
        a
        for a in found
        if (before is None or a.id < before)
        and (oldest is None or a.created_at >= oldest)
        and (start.latest is None or a.created_at <= start.latest)
    ]
    chosen.sort(key=lambda a: a.id, reverse=True)
    return activity_answer(history.activity_page(chosen[:size], len(chosen), start))


def get_lead_changes(
    ctx: CallContext, upstream: Upstream, fields: UpstreamFields, foreign: str
) -> CallOutcome:
    start, types, requested, selector = read_changes_request(ctx)
    window = history.changes_window(
        start, types, requested, selector, ctx.settings.max_time_range_days
    )
    lead_ids: list[int] | None = None
    list_id: int | None = None
    if isinstance(selector, reads.KeySelector):
        known = fields.current()
        lead_ids = list(
            dict.fromkeys(
                lead.id
                for value in selector.values
                for lead in find_leads(upstream, known, LeadKey(selector.key_type, value), foreign)
            )
        )
    elif isinstance(selector, reads.ListSelector):
        list_id = resolve_list(upstream, selector)
    names = _type_names(upstream)
    wanted = [
        type_id
        for type_id, name in names.items()
        if (window.keep is None or name in window.keep) and name not in window.drop
    ]
    found: list[Activity] = []
    if lead_ids != []:
        lead_groups: list[list[int] | None] = (
            [lead_ids[i : i + MAX_LEAD_IDS] for i in range(0, len(lead_ids), MAX_LEAD_IDS)]
            if lead_ids is not None
            else [None]
        )
        for leads in lead_groups:
            for first in range(0, len(wanted), MAX_TYPES):
                chunk = wanted[first : first + MAX_TYPES]
                found += _read(upstream, leads, chunk, names, window.created_from, list_id)
    after, created_from, created_to = window.after, window.created_from, window.created_to
    chosen = sorted(
        (
            a
            for a in found
            if (after is None or a.id > after)
            and (created_from is None or a.created_at >= created_from)
            and (created_to is None or a.created_at <= created_to)
        ),
        key=lambda a: a.id,
    )
    return changes_answer(history.activity_page(chosen[: window.size], len(chosen), start))


def _type_names(upstream: Upstream) -> dict[int, str]:
    """Upstream activity type id -> WSDL ActivityType (or the upstream's name)."""
    by_display = {display.casefold(): wsdl for wsdl, display in DISPLAY_NAMES.items()}
    answer = upstream.call("GET", "/rest/v1/activities/types.json")
    names = {}
    for row in answer.get("result") or []:
        if isinstance(row, dict) and isinstance(row.get("id"), int):
            name = str(row.get("name", ""))
            names[int(row["id"])] = by_display.get(name.casefold(), name)
    return names


def _read(
    upstream: Upstream,
    lead_ids: Sequence[int] | None,
    type_ids: list[int],
    names: Mapping[int, str],
    oldest: datetime | None,
    list_id: int | None = None,
) -> list[Activity]:
    """Every activity of these types since ``oldest``: of ``lead_ids`` (at most 30), of the
    list ``list_id``, or of every lead when both are None."""
    since = oldest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if oldest else _EPOCH
    token = upstream.call(
        "GET", "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": since}
    ).get("nextPageToken")
    found: list[Activity] = []
    for _ in range(MAX_PAGES):
        if not isinstance(token, str) or not token:
            break
        answer = upstream.call(
            "GET",
            "/rest/v1/activities.json",
            params={
                "nextPageToken": token,
                "activityTypeIds": ",".join(map(str, type_ids)),
                **({"leadIds": ",".join(map(str, lead_ids))} if lead_ids is not None else {}),
                **({"listId": str(list_id)} if list_id is not None else {}),
            },
        )
        found += [
            _activity(row, names)
            for row in answer.get("result") or []
            if isinstance(row, dict) and isinstance(row.get("id"), int)
        ]
        if not answer.get("moreResult"):
            break
        token = answer.get("nextPageToken")
    return found


def _activity(row: Mapping[str, Any], names: Mapping[int, str]) -> Activity:
    """A REST activity as the local store holds one: REST moves ``Attribute Name`` and
    ``Lead ID`` out of the attributes, and New Lead's shown attributes are added again when
    the page is presented (``operations.activities.presented``)."""
    type_id = row.get("activityTypeId")
    kind = names.get(type_id, str(type_id)) if isinstance(type_id, int) else ""
    lead_id = int(row.get("leadId") or 0)
    primary = row.get("primaryAttributeValue")
    attributes = [
        (str(item.get("name", "")), "" if item.get("value") is None else str(item.get("value")))
        for item in row.get("attributes") or []
        if isinstance(item, dict)
    ]
    if kind == ActivityKind.NEW_LEAD:
        attributes = [(n, v) for n, v in attributes if n not in _PRESENTED]
    if kind == ActivityKind.CHANGE_DATA_VALUE and primary is not None:
        attributes.insert(0, ("Attribute Name", str(primary)))
    if all(n != "Lead ID" for n, _ in attributes):
        attributes.append(("Lead ID", str(lead_id)))
    return Activity(
        id=int(row["id"]),
        lead_id=lead_id,
        type=kind,
        created_at=_time(row.get("activityDate")),
        asset_name=None if primary is None else str(primary),
        attributes=tuple(attributes),
    )


def _time(raw: Any) -> datetime:
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.fromtimestamp(0, UTC)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)
