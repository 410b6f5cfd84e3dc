"""Reading activity history: getLeadActivity (one lead) and getLeadChanges (many leads).

Positions are Marketo's ``ID:<activity id>`` offsets. getLeadActivity walks a lead's
history newest first and resumes below the offset; getLeadChanges walks everything oldest
first and resumes above it. Activity ids only grow, so an offset alone is enough to resume,
which is what clients that send back nothing but the offset rely on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from leadsync.errors import BadParameter, BadStreamPosition
from leadsync.model import Activity
from leadsync.operations.activities import presented, resolve_type_filter
from leadsync.operations.keys import LeadKey, find_leads, find_one, lead_ids
from leadsync.operations.reads import (
    KeySelector,
    ListSelector,
    Selector,
    UpdatedSelector,
    batch_size,
    check_range,
    resolve_list,
)
from leadsync.store.base import ActivityQuery, Store

#: Batch caps from the docs: "100 or batchSize, whichever is less" and 1,000 respectively.
ACTIVITY_BATCH_MAX = 100
CHANGES_BATCH_MAX = 1000
DEFAULT_BATCH = 100
#: A getLeadChanges LeadKeySelector with more keys than this is a bad parameter.
MAX_KEYS = 100
_OFFSET = re.compile(r"^(?:id:)?\s*(\d{1,18})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StartPosition:
    latest: datetime | None = None
    oldest: datetime | None = None
    activity_created: datetime | None = None
    offset: str | None = None


@dataclass(frozen=True, slots=True)
class TypeFilter:
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    #: activityNameFilter: display names such as "Change Data Value".
    names: tuple[str, ...] | None = None


@dataclass(slots=True)
class ActivityPage:
    activities: list[Activity]
    remaining: int
    position: StartPosition


def parse_offset(text: str | None) -> int | None:
    """``ID:123`` or ``123``; None when empty; 20122 for anything else."""
    if text is None or not text.strip():
        return None
    match = _OFFSET.match(text.strip())
    if not match:
        raise BadStreamPosition(f"Bad Stream Position: {text.strip()!r} is not an offset")
    return int(match[1])


def get_lead_activity(
    store: Store, key: LeadKey, types: TypeFilter, start: StartPosition, requested: int | None
) -> ActivityPage:
    size = batch_size(requested, DEFAULT_BATCH, ACTIVITY_BATCH_MAX)
    keep, drop = resolve_type_filter(types.include, types.exclude, types.names)
    before = parse_offset(start.offset)
    with store.read() as reader:
        lead = find_one(reader, key)
        query = ActivityQuery(
            lead_ids=(lead.id,),
            types=keep,
            exclude_types=drop,
            created_from=_later(start.oldest, start.activity_created),
            created_to=start.latest,
            before_id=before,
            newest_first=True,
        )
        total = reader.count_activities(query)
        found = reader.activities(query, size)
    return _page(found, total, start)


def get_lead_changes(
    store: Store,
    start: StartPosition,
    types: TypeFilter,
    requested: int | None,
    selector: Selector | None,
    max_range_days: int,
) -> ActivityPage:
    window = changes_window(start, types, requested, selector, max_range_days)
    size, keep, drop = window.size, window.keep, window.drop
    after, created_from, created_to = window.after, window.created_from, window.created_to
    with store.read() as reader:
        leads: tuple[int, ...] | None = None
        list_id = None
        if isinstance(selector, KeySelector):
            found_leads = find_leads(reader, selector.key_type, selector.values)
            leads = tuple(lead_ids(found_leads.values()))
        elif isinstance(selector, ListSelector):
            list_id = resolve_list(reader, selector).id
        query = ActivityQuery(
            lead_ids=leads,
            list_id=list_id,
            types=keep,
            exclude_types=drop,
            created_from=created_from,
            created_to=created_to,
            after_id=after,
        )
        total = reader.count_activities(query)
        found = reader.activities(query, size)
    return _page(found, total, start)


@dataclass(frozen=True, slots=True)
class ChangesWindow:
    """What a getLeadChanges call reads: checked, before any read."""

    size: int
    keep: frozenset[str] | None
    drop: frozenset[str]
    after: int | None
    created_from: datetime | None
    created_to: datetime | None


def changes_window(
    start: StartPosition,
    types: TypeFilter,
    requested: int | None,
    selector: Selector | None,
    max_range_days: int,
) -> ChangesWindow:
    """getLeadChanges' request-level rules (the bridge checks its calls with this too)."""
    size = batch_size(requested, DEFAULT_BATCH, CHANGES_BATCH_MAX)
    keep, drop = resolve_type_filter(types.include, types.exclude, types.names)
    after = parse_offset(start.offset)
    created_from = _later(start.oldest, start.activity_created)
    created_to = start.latest
    if isinstance(selector, UpdatedSelector):
        # The docs map oldestUpdatedAt/latestUpdatedAt onto the activities' creation times.
        created_from = _later(created_from, selector.oldest)
        created_to = _earlier(created_to, selector.latest)
    check_range(created_from, created_to, max_range_days)
    if isinstance(selector, KeySelector) and len(selector.values) > MAX_KEYS:
        raise BadParameter(
            f"leadSelector holds {len(selector.values)} keys; at most {MAX_KEYS} are allowed"
        )
    return ChangesWindow(size, keep, drop, after, created_from, created_to)


def activity_page(found: list[Activity], total: int, start: StartPosition) -> ActivityPage:
    """The page ``found`` makes of ``total`` activities from ``start``, as clients read it
    (the bridge pages its upstream's activities with this)."""
    return _page(found, total, start)


def _page(found: list[Activity], total: int, start: StartPosition) -> ActivityPage:
    offset = f"ID:{found[-1].id}" if found else start.offset
    position = StartPosition(start.latest, start.oldest, start.activity_created, offset)
    return ActivityPage([presented(a) for a in found], max(0, total - len(found)), position)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)
