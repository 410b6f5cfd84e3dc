"""REST static lists on the lists SOAP's listOperation uses.

Adding, removing and membership go through ``operations.lists`` (the same rule and the same
Add to List / Remove from List history); REST reports each lead's outcome in its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadsync.clock import Clock
from leadsync.errors import InvalidData, ListNotFound, ObjectNotFound
from leadsync.model import Lead, LeadKeyType, StaticList
from leadsync.operations.keys import LeadKey
from leadsync.operations.lists import ListAction, ListKeyType, list_operation
from leadsync.operations.rest_leads import Page, page_of
from leadsync.store.base import LeadQuery, Store

MAX_IDS = 300
_NOT_FOUND = ("1004", "Lead not found")
_NOT_IN_LIST = ("1015", "Lead not in list")


@dataclass(frozen=True, slots=True)
class MemberOutcome:
    lead_id: int
    #: ``added``, ``removed``, ``memberof``, ``notmemberof`` or ``skipped``.
    status: str
    reason: tuple[str, str] | None = None


def lists(
    store: Store,
    ids: Sequence[int],
    names: Sequence[str],
    after: int,
    batch: int,
) -> Page[StaticList]:
    """Lists in id order, only those with one of ``ids`` or ``names`` when given."""
    wanted_names = {name.strip().casefold() for name in names}
    found = sorted(
        (
            item
            for item in store.static_lists()
            if item.id > after
            and (not ids or item.id in ids)
            and (not wanted_names or item.name.strip().casefold() in wanted_names)
        ),
        key=lambda item: item.id,
    )
    return page_of(found, batch, _id)


def _id(item: StaticList | Lead) -> int:
    return item.id


def get_list(store: Store, list_id: int) -> StaticList | None:
    with store.read() as reader:
        return reader.static_list(list_id=list_id)


def change_members(
    store: Store, list_id: int, action: ListAction, lead_ids: Sequence[int], clock: Clock
) -> list[MemberOutcome]:
    if not lead_ids:
        raise InvalidData("No lead ids specified")
    if len(lead_ids) > MAX_IDS:
        raise InvalidData(f"Too many ids: {len(lead_ids)}; at most {MAX_IDS}")
    keys = [LeadKey(LeadKeyType.IDNUM, str(i)) for i in lead_ids]
    try:
        result = list_operation(
            store,
            action,
            ListKeyType.MKTOLISTNAME,
            "",
            keys,
            strict=False,
            clock=clock,
            list_id=list_id,
        )
    except ListNotFound:
        raise ObjectNotFound(f"Static list not found: {list_id}") from None
    outcomes = dict.fromkeys(lead_ids, True)
    if result.statuses is not None:
        outcomes = {int(key.value): ok for key, ok in result.statuses}
    with store.read() as reader:
        known = set(reader.leads_by_ids(lead_ids))
    done = {
        ListAction.ADD: ("added", _NOT_FOUND),
        ListAction.REMOVE: ("removed", _NOT_IN_LIST),
        ListAction.IS_MEMBER: ("memberof", None),
    }[action]
    found = []
    for lead_id in lead_ids:
        if lead_id not in known and not (action is ListAction.REMOVE and outcomes[lead_id]):
            found.append(MemberOutcome(lead_id, "skipped", _NOT_FOUND))
        elif outcomes[lead_id]:
            found.append(MemberOutcome(lead_id, done[0]))
        elif action is ListAction.IS_MEMBER:
            found.append(MemberOutcome(lead_id, "notmemberof"))
        else:
            found.append(MemberOutcome(lead_id, "skipped", done[1]))
    return found


def leads_of_list(store: Store, list_id: int, after: int, batch: int) -> Page[Lead]:
    with store.read() as reader:
        if reader.static_list(list_id=list_id) is None:
            raise ObjectNotFound(f"Static list not found: {list_id}")
        found = reader.leads_page(LeadQuery(after_id=after, list_id=list_id), batch + 1)
    return page_of(found, batch, _id)
