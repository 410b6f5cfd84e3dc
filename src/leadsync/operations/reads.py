"""Reading leads back: getLead and getMultipleLeads (docs/compatibility.md, "Reading leads").

getMultipleLeads pages through its selector in lead id order and resumes after the last id
returned. A lead updated between two pages keeps its id, so it is neither returned twice
nor passed over. A lead created meanwhile is returned later if it matches (with several
PostgreSQL writers, one that commits after a higher id was read may be left to the next
window).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadsync.errors import (
    BadParameter,
    BadStreamPosition,
    ListNotFound,
    ParameterRequired,
    TimeRangeExceeded,
)
from leadsync.model import Lead, LeadKeyType, StaticList
from leadsync.operations import positions
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.keys import LeadKey, find_all, find_leads
from leadsync.store.base import LeadQuery, LeadReader, Store, list_name_key


@dataclass(frozen=True, slots=True)
class KeySelector:
    key_type: LeadKeyType
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UpdatedSelector:
    oldest: datetime
    latest: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListSelector:
    name: str | None = None
    list_id: int | None = None


Selector = KeySelector | UpdatedSelector | ListSelector
_KINDS: dict[type, str] = {KeySelector: "lk", UpdatedSelector: "lu", ListSelector: "sl"}


@dataclass(frozen=True, slots=True)
class ReadLimits:
    default_batch: int = 100
    max_batch: int = 1000
    #: LeadKeySelector values beyond this many are ignored (docs/compatibility.md, "Reading leads").
    max_keys: int = 100
    #: Widest LastUpdateAtSelector window, in days (20022 above it); 0 for no limit.
    max_range_days: int = 30


@dataclass(slots=True)
class LeadPage:
    leads: list[Lead]
    remaining: int
    #: Where the next page starts; empty when nothing remains.
    position: str


def get_lead(store: Store, key: LeadKey) -> list[Lead]:
    """Every lead ``key`` names, newest first; 20103 (or 20108 for owner keys) when none."""
    with store.read() as reader:
        return find_all(reader, key)


def batch_size(requested: int | None, default: int, cap: int) -> int:
    """Marketo's rule: the system limit or batchSize, whichever is less."""
    if requested is None:
        return min(default, cap)
    if requested <= 0:
        raise BadParameter(f"batchSize must be a positive number, not {requested}")
    return min(requested, cap)


def check_range(oldest: datetime | None, latest: datetime | None, max_days: int) -> None:
    """20022 when both bounds are given and lie more than ``max_days`` apart."""
    if (
        max_days
        and oldest is not None
        and latest is not None
        and latest - oldest > timedelta(days=max_days)
    ):
        raise TimeRangeExceeded(
            "Time range specified in query filter exceeded limit: more than"
            f" {max_days} days between the oldest and latest times"
        )


def get_multiple_leads(
    store: Store,
    selector: Selector | None,
    position: str | None,
    requested_batch: int | None,
    limits: ReadLimits,
) -> LeadPage:
    size = batch_size(requested_batch, limits.default_batch, limits.max_batch)
    position = (position or "").strip() or None
    if position is None and selector is None:
        raise ParameterRequired("Parameter Required: leadSelector is missing")
    kind = positions.kind_of(position) if position else _KINDS[type(selector)]
    if selector is not None and _KINDS[type(selector)] != kind:
        raise BadStreamPosition("Bad Stream Position: it belongs to another kind of selector")
    if kind == "lu":
        assert selector is None or isinstance(selector, UpdatedSelector)
        return _by_update_time(store, selector, position, size, limits)
    if kind == "sl":
        assert selector is None or isinstance(selector, ListSelector)
        return _by_list(store, selector, position, size)
    if kind == "lk":
        if not isinstance(selector, KeySelector):
            raise BadStreamPosition("Bad Stream Position: resend its LeadKeySelector with it")
        return _by_keys(store, selector, position, size, limits)
    raise BadStreamPosition(f"Bad Stream Position: {position!r} is not a stream position")


def _by_update_time(
    store: Store,
    selector: UpdatedSelector | None,
    position: str | None,
    size: int,
    limits: ReadLimits,
) -> LeadPage:
    if position is not None:
        after, oldest_text, latest_text = positions.decode(position, "lu", 3)
        query = LeadQuery(
            positions.to_int(after), positions.to_time(oldest_text), positions.to_time(latest_text)
        )
    else:
        assert selector is not None
        check_range(selector.oldest, selector.latest, limits.max_range_days)
        query = LeadQuery(0, selector.oldest, selector.latest)
    bounds = positions.from_time(query.updated_from), positions.from_time(query.updated_to)
    with store.read() as reader:
        return _page(reader, query, size, lambda last: positions.encode("lu", last, *bounds))


def _by_list(
    store: Store, selector: ListSelector | None, position: str | None, size: int
) -> LeadPage:
    with store.read() as reader:
        if position is not None:
            list_text, after = positions.decode(position, "sl", 2)
            found = reader.static_list(list_id=positions.to_int(list_text))
            if found is None:
                raise ListNotFound("List Not Found: the stream's list no longer exists")
            query = LeadQuery(positions.to_int(after), list_id=found.id)
        else:
            assert selector is not None
            found = resolve_list(reader, selector)
            query = LeadQuery(0, list_id=found.id)
        list_id = found.id
        return _page(reader, query, size, lambda last: positions.encode("sl", list_id, last))


def resolve_list(reader: LeadReader, selector: ListSelector) -> StaticList:
    """The list a StaticListSelector names, by id or name (both must agree); 20111."""
    name = (selector.name or "").strip() or None
    if selector.list_id is None and name is None:
        raise ParameterRequired("Parameter Required: give staticListName or staticListId")
    if selector.list_id is not None:
        found = reader.static_list(list_id=selector.list_id)
        if found and name is not None and list_name_key(found.name) != list_name_key(name):
            found = None
    else:
        found = reader.static_list(name=name)
    if found is None:
        raise ListNotFound(f"List Not Found: no static list {name or selector.list_id}")
    return found


def _page(
    reader: LeadReader, query: LeadQuery, size: int, position_after: Callable[[int], str]
) -> LeadPage:
    # Counted in the same snapshot as the page, so what remains is exact.
    total = reader.count_leads_page(query)
    leads = reader.leads_page(query, size)
    remaining = max(0, total - len(leads))
    position = position_after(leads[-1].id) if remaining and leads else ""
    return LeadPage(leads, remaining, position)


def _by_keys(
    store: Store, selector: KeySelector, position: str | None, size: int, limits: ReadLimits
) -> LeadPage:
    def find(key_type: LeadKeyType, values: Sequence[str]) -> Mapping[str, list[Lead]]:
        with store.read() as reader:
            return find_leads(reader, key_type, values)

    return keys_page(selector, position, size, limits, find)


def keys_page(
    selector: KeySelector,
    position: str | None,
    size: int,
    limits: ReadLimits,
    find: Callable[[LeadKeyType, Sequence[str]], Mapping[str, list[Lead]]],
) -> LeadPage:
    """A page of a LeadKeySelector's leads, ``find`` giving the leads of each key value
    (newest first); the bridge pages its upstream's leads with this."""
    values = selector.values[: limits.max_keys]
    digest = _digest(selector.key_type, values)
    start_key, last_id = -1, 0
    if position is not None:
        token_digest, key_text, id_text = positions.decode(position, "lk", 3)
        if token_digest != digest:
            raise BadStreamPosition("Bad Stream Position: it belongs to other lead keys")
        start_key, last_id = positions.to_int(key_text), positions.to_int(id_text)
    found = find(selector.key_type, values)
    # Key order, and the newest lead first among those sharing an email; each lead once.
    entries: list[tuple[int, Lead]] = []
    seen: set[int] = set()
    for index, value in enumerate(values):
        for lead in found.get(value, ()):
            if lead.id not in seen:
                seen.add(lead.id)
                entries.append((index, lead))
    start = next(
        (
            n
            for n, (k, lead) in enumerate(entries)
            if k > start_key or (k == start_key and lead.id < last_id)
        ),
        len(entries),
    )
    chosen = entries[start : start + size]
    remaining = len(entries) - start - len(chosen)
    next_position = ""
    if remaining and chosen:
        next_position = positions.encode("lk", digest, chosen[-1][0], chosen[-1][1].id)
    return LeadPage([lead for _, lead in chosen], remaining, next_position)


def _digest(key_type: LeadKeyType, values: Sequence[str]) -> str:
    text = "\x1f".join([key_type.value, *values])
    return f"{zlib.crc32(text.encode('utf-8')):08x}"


def attribute_names(
    catalogue: FieldCatalogue, names: Sequence[str] | None
) -> frozenset[str] | None:
    """The fields includeAttributes asks for, by canonical name; unknown names are ignored."""
    if names is None:
        return None
    found = (catalogue.get(n.strip()) for n in names if n.strip())
    return frozenset(f.name for f in found if f is not None)
