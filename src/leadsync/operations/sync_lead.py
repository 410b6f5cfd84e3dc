"""syncLead: one lead, with the same matching and merging as syncMultipleLeads.

Key precedence is Id, ForeignSysPersonId, Munchkin cookie, then Email; a lead found by its
cookie becomes known once it is given an email. Unlike syncMultipleLeads, an unknown
attribute always faults (20105), and by default a record that cannot be written faults
too (20106), since the call is about that one lead.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.errors import BadParameter, LeadKeyRequired, LeadSyncFailed
from leadsync.model import Lead, LeadInput, RecordStatus, SyncOutcome
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncOptions, UnknownAttributePolicy, sync_leads
from leadsync.store.base import Store


@dataclass(frozen=True, slots=True)
class SyncLeadPolicy:
    #: Write the top-level Email of a lead matched by another key (syncLead's page: yes).
    write_key_email: bool = True
    #: A record that cannot be written faults with 20106 instead of returning FAILED.
    failure_faults: bool = True
    #: The one workspace MktowsContextHeader may name.
    workspace: str = "Default"


@dataclass(frozen=True, slots=True)
class SyncLeadResult:
    status: RecordStatus
    lead: Lead | None


def sync_lead(
    store: Store,
    catalogue: FieldCatalogue,
    record: LeadInput,
    policy: SyncLeadPolicy,
    *,
    target_workspace: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> SyncLeadResult:
    options = check_request(record, policy, target_workspace)
    result = sync_leads(store, catalogue, [record], options, clock=clock)
    status, lead = result.statuses[0], result.leads[0]
    check_status(status, policy)
    return SyncLeadResult(status, lead)


def check_request(
    record: LeadInput, policy: SyncLeadPolicy, target_workspace: str | None
) -> SyncOptions:
    """The request-level checks of syncLead, and the sync options it runs with (the bridge
    checks its calls with this too)."""
    if target_workspace is not None and (
        target_workspace.strip().casefold() != policy.workspace.strip().casefold()
    ):
        raise BadParameter(f"targetWorkspace {target_workspace!r} is not a workspace")
    if (
        record.id is None
        and not record.foreign_sys_person_id
        and not record.cookie
        and not (record.email or "").strip()
        and record.decode_error is None
    ):
        raise LeadKeyRequired(
            "Lead Key Required: give Id, ForeignSysPersonId, Email or marketoCookie"
        )
    return SyncOptions(
        operation="syncLead",
        write_key_email=policy.write_key_email,
        unknown_attributes=UnknownAttributePolicy.FAULT,
    )


def check_status(status: RecordStatus, policy: SyncLeadPolicy) -> None:
    """20106 for a record that could not be written, when the policy says so."""
    if status.status is SyncOutcome.FAILED and policy.failure_faults:
        raise LeadSyncFailed(f"syncLead operation failed: {status.error}")
