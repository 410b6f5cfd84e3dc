"""mergeLeads: losers are folded into the winner, which keeps its id.

The winner keeps every value it has; each of its empty fields takes the first value found
among the losers, in the order they were given. The losers' history and static list
memberships move to the winner, and the losers are deleted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.errors import BadParameter, LeadKeyRequired, ParameterRequired
from leadsync.model import Lead, Value
from leadsync.operations.activities import change_activities, merge_activity
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.keys import LeadKey, find_one
from leadsync.store.base import Store

MERGE_REASON = "Merge Leads"


@dataclass(frozen=True, slots=True)
class MergeResult:
    winner_id: int
    loser_ids: list[int]


@dataclass(frozen=True, slots=True)
class _Filled:
    lead_id: int
    field: str
    old: Value
    new: Value


@dataclass(slots=True)
class _Merge:
    winner: Lead
    filled: list[_Filled] = field(default_factory=list)

    def fill(self, loser: Lead) -> None:
        winner = self.winner
        for name, value in loser.values.items():
            if value is not None and winner.values.get(name) is None:
                winner.values[name] = value
                self.filled.append(_Filled(winner.id, name, None, value))
        if winner.email is None and loser.email:
            winner.email = loser.email
            self.filled.append(_Filled(winner.id, "Email", None, loser.email))
        if winner.foreign_sys_person_id is None and loser.foreign_sys_person_id:
            winner.foreign_sys_person_id = loser.foreign_sys_person_id
            winner.foreign_sys_type = loser.foreign_sys_type
            self.filled.append(
                _Filled(winner.id, "ForeignSysPersonId", None, loser.foreign_sys_person_id)
            )
        if winner.cookie is None and loser.cookie:
            winner.cookie = loser.cookie


def merge_leads(
    store: Store,
    catalogue: FieldCatalogue,
    winner_keys: Sequence[LeadKey],
    loser_key_lists: Sequence[Sequence[LeadKey]],
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> MergeResult:
    with store.write() as tx:
        # Read inside the write: writes commit in the order they read the clock
        # (store/base.py, "Time").
        at = clock.now()
        winner, losers = resolve_merge(
            winner_keys, loser_key_lists, functools.partial(find_one, tx)
        )
        merge = _Merge(winner)
        for loser in losers.values():
            merge.fill(loser)
        winner.updated_at = at
        loser_ids = list(losers)
        tx.merge_leads(winner, loser_ids, at)
        history = change_activities(catalogue, merge.filled, at, MERGE_REASON)
        history.append(merge_activity(winner.id, loser_ids, at))
        tx.record_activities(history)
    return MergeResult(winner.id, loser_ids)


def resolve_merge(
    winner_keys: Sequence[LeadKey],
    loser_key_lists: Sequence[Sequence[LeadKey]],
    find: Callable[[LeadKey], Lead],
) -> tuple[Lead, dict[int, Lead]]:
    """The winner and the losers (by id) the keys name, ``find`` naming the lead of one key
    (or raising its not-found fault); the bridge resolves its keys upstream with this."""
    if not winner_keys:
        raise LeadKeyRequired("Lead Key Required: winningLeadKeyList names no lead")
    if not any(loser_key_lists):
        raise ParameterRequired("Parameter Required: losingLeadKeyLists names no lead")
    winner = _one_lead(find, winner_keys, "winningLeadKeyList")
    losers: dict[int, Lead] = {}
    # Each key of a keyList names a loser: Marketo's own Ruby sample puts two losers in
    # one keyList, while its PHP and Java samples give each loser a keyList of its own.
    for key in (key for keys in loser_key_lists for key in keys):
        loser = find(key)
        losers.setdefault(loser.id, loser)
    if winner.id in losers:
        raise BadParameter(f"lead {winner.id} cannot be merged into itself")
    return winner, losers


def _one_lead(find: Callable[[LeadKey], Lead], keys: Sequence[LeadKey], what: str) -> Lead:
    """The lead every key in ``keys`` names (20103 if one names none)."""
    leads = {lead.id: lead for lead in (find(key) for key in keys)}
    if len(leads) > 1:
        raise BadParameter(f"the keys of {what} name different leads: {sorted(leads)}")
    return next(iter(leads.values()))
