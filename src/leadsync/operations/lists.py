"""Static lists: listOperation (docs/compatibility.md, "listOperation") and creating lists.

Per lead, ADDTOLIST succeeds when the lead exists (already being a member is success),
REMOVEFROMLIST when the lead was a member, ISMEMBEROFLIST when it is one. Non-strict calls
do what they can; a strict call that would fail for any lead changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.errors import BadParameter, LeadKeyBad, ListNotFound, ParameterRequired
from leadsync.model import Activity, LeadKeyType, StaticList
from leadsync.operations.activities import ActivityKind, list_activities
from leadsync.operations.keys import LeadKey
from leadsync.store.base import LeadReader, LeadWriter, Store

MAX_MEMBERS = 1000
MAX_NAME_CHARS = 255


class ListAction(enum.StrEnum):
    ADD = "ADDTOLIST"
    IS_MEMBER = "ISMEMBEROFLIST"
    REMOVE = "REMOVEFROMLIST"


class ListKeyType(enum.StrEnum):
    MKTOLISTNAME = "MKTOLISTNAME"
    MKTOSALESUSERID = "MKTOSALESUSERID"
    SFDCLEADOWNERID = "SFDCLEADOWNERID"


@dataclass(frozen=True, slots=True)
class ListOperationResult:
    success: bool
    #: Each lead key with its outcome; None when an ADD or REMOVE succeeded for every lead.
    statuses: list[tuple[LeadKey, bool]] | None


def parse_action(text: str | None) -> ListAction:
    if text is None or not text.strip():
        raise ParameterRequired("Parameter Required: listOperation is missing")
    try:
        return ListAction(text.strip().upper())
    except ValueError:
        raise BadParameter(f"listOperation {text.strip()!r} is not a list operation") from None


def parse_list_key_type(text: str | None) -> ListKeyType:
    if text is None or not text.strip():
        raise ParameterRequired("Parameter Required: listKey/keyType is missing")
    try:
        return ListKeyType(text.strip().upper())
    except ValueError:
        raise BadParameter(f"listKey keyType {text.strip()!r} is not a list key type") from None


def list_operation(
    store: Store,
    action: ListAction,
    key_type: ListKeyType,
    list_name: str,
    members: Sequence[LeadKey],
    *,
    strict: bool,
    skip_activity_log: bool = False,
    clock: Clock = SYSTEM_CLOCK,
    list_id: int | None = None,
) -> ListOperationResult:
    """``list_id``, when given, names the list instead of ``key_type`` and ``list_name``
    (the REST API names lists by id)."""
    ids = lead_ids_of(members)
    if action is ListAction.IS_MEMBER:
        with store.read() as reader:
            static_list = _find_list(reader, key_type, list_name, list_id)
            members_found = reader.list_members(static_list.id, [i for i in ids if i is not None])
        outcomes = [i is not None and i in members_found for i in ids]
        return ListOperationResult(all(outcomes), list(zip(members, outcomes, strict=True)))
    with store.write() as tx:
        # Read inside the write: writes commit in the order they read the clock
        # (store/base.py, "Time").
        at = clock.now()
        static_list = _find_list(tx, key_type, list_name, list_id)
        known = [i for i in ids if i is not None]
        if action is ListAction.ADD:
            eligible = set(tx.leads_by_ids(known))
        else:
            eligible = tx.list_members(static_list.id, known)
        outcomes = [i is not None and i in eligible for i in ids]
        success = all(outcomes)
        if strict and not success:
            return ListOperationResult(False, list(zip(members, outcomes, strict=True)))
        targets = [i for i, ok in zip(ids, outcomes, strict=True) if ok and i is not None]
        if action is ListAction.ADD:
            changed = tx.add_list_members(static_list.id, targets, at)
            kind = ActivityKind.ADD_TO_LIST
        else:
            changed = tx.remove_list_members(static_list.id, targets)
            kind = ActivityKind.REMOVE_FROM_LIST
        if not skip_activity_log:
            tx.record_activities(list_activities(kind, static_list, changed, at))
    statuses = None if success else list(zip(members, outcomes, strict=True))
    return ListOperationResult(success, statuses)


def add_members_in(
    tx: LeadWriter, static_list: StaticList, lead_ids: Sequence[int], at: datetime
) -> list[Activity]:
    """Add existing leads to a list inside a write (a bulk import's chunk); the Add to List
    activities of those that were not members yet, for the caller to record."""
    changed = tx.add_list_members(static_list.id, lead_ids, at)
    return list_activities(ActivityKind.ADD_TO_LIST, static_list, changed, at)


def remove_members_in(
    tx: LeadWriter, static_list: StaticList, lead_ids: Sequence[int], at: datetime
) -> list[Activity]:
    """Remove leads from a list inside a write; the Remove from List activities of those
    that were members, for the caller to record."""
    changed = tx.remove_list_members(static_list.id, lead_ids)
    return list_activities(ActivityKind.REMOVE_FROM_LIST, static_list, changed, at)


def lead_ids_of(members: Sequence[LeadKey]) -> list[int | None]:
    """The lead id each member key names (None for a value that is no id); faults for too
    many members or a key that is not IDNUM."""
    if len(members) > MAX_MEMBERS:
        raise BadParameter(
            f"listMemberList holds {len(members)} leads; at most {MAX_MEMBERS} are allowed"
        )
    for key in members:
        if key.type is not LeadKeyType.IDNUM:
            raise LeadKeyBad(f"Lead Key Bad: listOperation names leads by IDNUM, not {key.type}")
    return [_as_id(key.value) for key in members]


def _find_list(
    reader: LeadReader, key_type: ListKeyType, name: str, list_id: int | None = None
) -> StaticList:
    found = None
    if list_id is not None:
        found = reader.static_list(list_id=list_id)
        if found is None:
            raise ListNotFound(f"List Not Found: no static list with id {list_id}")
        return found
    # Lists keyed by sales user or lead owner cannot exist here: leadsync holds neither.
    if key_type is ListKeyType.MKTOLISTNAME and name.strip():
        found = reader.static_list(name=name)
    if found is None:
        raise ListNotFound(f"List Not Found: no static list {name!r}")
    return found


def _as_id(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def create_list(store: Store, name: str) -> StaticList:
    """A new, empty static list; ValueError says why a name cannot be used."""
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("a list name cannot be empty")
    if len(cleaned) > MAX_NAME_CHARS or any(ord(c) < 0x20 for c in cleaned):
        raise ValueError(
            f"a list name holds at most {MAX_NAME_CHARS} characters and no control characters"
        )
    return store.add_static_list(cleaned)
