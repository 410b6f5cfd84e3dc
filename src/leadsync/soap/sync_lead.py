"""syncLead on the wire: one leadRecord, returnLead, marketoCookie, MktowsContextHeader."""

from __future__ import annotations

from leadsync.errors import LeadDetailRequired
from leadsync.mktows import xml
from leadsync.model import SyncOutcome
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync_lead import SyncLeadPolicy, sync_lead
from leadsync.soap.handlers import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.leads import encode_sync_status
from leadsync.soap.record_reader import read_lead_record
from leadsync.soap.records import LeadEncoder, child_text
from leadsync.soap.writer import element, success


@operation("syncLead")
def sync_lead_handler(ctx: CallContext) -> CallOutcome:
    params = ctx.request.params
    record_el = xml.child(params, "leadRecord")
    if record_el is None or xml.is_nil(record_el):
        raise LeadDetailRequired("Lead Detail Required: leadRecord is missing")
    catalogue = FieldCatalogue(ctx.store.custom_fields())
    record = read_lead_record(record_el, catalogue)
    cookie = (child_text(params, "marketoCookie") or "").strip()
    if cookie:
        record.cookie = cookie
    # returnLead is required by the schema; a client that leaves it out gets no record.
    return_lead = parse_bool(child_text(params, "returnLead"), "returnLead", False)
    settings = ctx.settings
    policy = SyncLeadPolicy(
        write_key_email=settings.sync_lead_writes_key_email,
        failure_faults=settings.sync_lead_failure_faults,
        workspace=settings.workspace,
    )
    result = sync_lead(
        ctx.store,
        catalogue,
        record,
        policy,
        target_workspace=ctx.request.target_workspace,
        clock=ctx.clock,
    )
    status = result.status
    if return_lead and result.lead is not None:
        lead_xml = LeadEncoder(catalogue).encode(result.lead)
    else:
        lead_xml = element("leadRecord", None)
    body = (
        f"<result><leadId>{status.lead_id}</leadId>{encode_sync_status(status)}{lead_xml}</result>"
    )
    return CallOutcome(
        success("syncLead", body),
        records=1,
        created=int(status.status is SyncOutcome.CREATED),
        updated=int(status.status is SyncOutcome.UPDATED),
        failed=int(status.status is SyncOutcome.FAILED),
    )
