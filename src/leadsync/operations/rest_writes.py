"""REST lead writes beyond syncing: delete, merge, associate.

Merge is SOAP mergeLeads' rule (``operations.merge``), named by ids; a deleted lead leaves a
Delete Lead activity, which ``activities/deletedleads.json`` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadsync.clock import Clock
from leadsync.errors import (
    InvalidCookie,
    InvalidData,
    InvalidValue,
    LeadNotFound,
    MarketoError,
    RestLeadNotFound,
    TooManyMergeIds,
)
from leadsync.model import LeadKeyType
from leadsync.operations.activities import delete_activities
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.keys import LeadKey
from leadsync.operations.merge import merge_leads
from leadsync.store.base import Store

MAX_IDS = 300
MAX_MERGE_LOSERS = 25


def parse_id(text: object) -> int:
    """A lead id as a REST client sends it (a JSON number or text); 1001 otherwise."""
    if isinstance(text, bool):
        raise InvalidValue(f"Invalid value '{text}'. Required of type 'Integer'")
    if isinstance(text, int) and 0 < text < 2**63:
        return text
    if isinstance(text, str) and text.strip().isdigit() and 0 < int(text) < 2**63:
        return int(text)
    raise InvalidValue(f"Invalid value '{text}'. Required of type 'Integer'")


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    lead_id: int
    deleted: bool


def delete_leads(store: Store, lead_ids: Sequence[int], clock: Clock) -> list[DeleteOutcome]:
    if not lead_ids:
        raise InvalidData("No lead ids specified")
    if len(lead_ids) > MAX_IDS:
        raise InvalidData(f"Too many ids: {len(lead_ids)}; at most {MAX_IDS}")
    with store.write() as tx:
        at = clock.now()
        deleted = tx.delete_leads(lead_ids)
        tx.record_activities(delete_activities(deleted, at))
    gone = set(deleted)
    return [DeleteOutcome(lead_id, lead_id in gone) for lead_id in lead_ids]


def merge(
    store: Store, catalogue: FieldCatalogue, winner_id: int, loser_ids: Sequence[int], clock: Clock
) -> None:
    if not loser_ids:
        raise InvalidData("Losing lead ids not specified")
    if len(loser_ids) > MAX_MERGE_LOSERS:
        raise TooManyMergeIds(
            f"Too many ids in leadIds: {len(loser_ids)}; at most {MAX_MERGE_LOSERS}"
        )
    winner = [LeadKey(LeadKeyType.IDNUM, str(winner_id))]
    losers = [[LeadKey(LeadKeyType.IDNUM, str(i))] for i in loser_ids]
    try:
        merge_leads(store, catalogue, winner, losers, clock=clock)
    except LeadNotFound as exc:
        raise RestLeadNotFound(exc.message) from None
    except MarketoError as exc:
        raise InvalidData(exc.message) from None


def associate(store: Store, lead_id: int, cookie: str | None, clock: Clock) -> None:
    """Give the lead this Munchkin cookie, as SOAP syncLead's marketoCookie does; a lead
    that held it before loses it (a cookie names one browser, so one lead)."""
    value = (cookie or "").strip()
    if not value:
        raise InvalidCookie("Invalid cookie value ''")
    with store.write() as tx:
        tx.lock_keys((), (), (value,))
        at = clock.now()
        lead = tx.leads_by_ids([lead_id]).get(lead_id)
        if lead is None:
            raise RestLeadNotFound(f"Lead not found: {lead_id}")
        holder = tx.leads_by_cookies([value]).get(value)
        if holder is not None and holder.id == lead.id:
            return
        changed = []
        if holder is not None:
            holder.cookie = None
            holder.updated_at = at
            changed.append(holder)
        lead.cookie = value
        lead.updated_at = at
        changed.append(lead)
        # The holder is written first, so the cookie is free when the lead takes it.
        for one in changed:
            tx.update_leads([one])
