"""syncLead through the upstream: Sync Leads for the record, then Associate Lead when a
``marketoCookie`` was given (spec §9.1), then a read of the lead for ``returnLead``.

The request is read and checked by the local syncLead's own functions; the record goes
through the same grouping as syncMultipleLeads (``bridge.sync.forward``).
"""

from __future__ import annotations

from leadsync.bridge.fields import UpstreamCatalogue, UpstreamFields
from leadsync.bridge.reads import find_leads
from leadsync.bridge.sync import forward
from leadsync.bridge.upstream import Upstream
from leadsync.errors import LeadAttributeBad, LeadKeyRequired
from leadsync.model import LeadInput, LeadKeyType, SyncOutcome
from leadsync.operations.keys import LeadKey
from leadsync.operations.sync import PreparedRecord, SyncOptions, prepare_records
from leadsync.operations.sync_lead import SyncLeadPolicy, check_request, check_status
from leadsync.soap.handlers import CallContext, CallOutcome
from leadsync.soap.sync_lead import read_sync_lead, sync_lead_answer, sync_lead_policy


def sync_lead(
    ctx: CallContext, upstream: Upstream, fields: UpstreamFields, foreign_field: str
) -> CallOutcome:
    policy = sync_lead_policy(ctx.settings)
    known = fields.current()
    try:
        record, return_lead, options, prepared = _validated(ctx, known, policy)
    except LeadAttributeBad:
        known = fields.refresh()
        record, return_lead, options, prepared = _validated(ctx, known, policy)
    if (
        record.cookie
        and record.id is None
        and not record.foreign_sys_person_id
        and not (record.email or "").strip()
    ):
        raise LeadKeyRequired(
            "Lead Key Required: in bridge mode a lead is synced by Id, ForeignSysPersonId or"
            " Email; marketoCookie is then associated with it"
        )
    [status] = forward(upstream, fields, known, prepared, options, foreign_field)
    check_status(status, policy)
    if status.status is not SyncOutcome.FAILED and record.cookie:
        upstream.call(
            "POST",
            f"/rest/v1/leads/{status.lead_id}/associate.json",
            params={"cookie": record.cookie},
            write=True,
        )
    lead = None
    if return_lead and status.status is not SyncOutcome.FAILED:
        found = find_leads(
            upstream, known, LeadKey(LeadKeyType.IDNUM, str(status.lead_id)), foreign_field
        )
        lead = found[0] if found else None
    return sync_lead_answer(status, lead, known.catalogue)


def _validated(
    ctx: CallContext, known: UpstreamCatalogue, policy: SyncLeadPolicy
) -> tuple[LeadInput, bool, SyncOptions, list[PreparedRecord]]:
    record, return_lead = read_sync_lead(ctx, known.catalogue)
    options = check_request(record, policy, ctx.request.target_workspace)
    return record, return_lead, options, prepare_records(known.catalogue, [record], options)
