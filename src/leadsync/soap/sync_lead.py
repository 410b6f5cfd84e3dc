"""syncLead on the wire: one leadRecord, returnLead, marketoCookie, MktowsContextHeader."""

from __future__ import annotations

from leadsync.config import Settings
from leadsync.errors import LeadDetailRequired
from leadsync.mktows import xml
from leadsync.model import Lead, LeadInput, RecordStatus, SyncOutcome
from leadsync.operations.fields import FieldCatalogue, catalogue_of
from leadsync.operations.sync_lead import SyncLeadPolicy, sync_lead
from leadsync.soap.handlers import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.leads import encode_sync_status
from leadsync.soap.record_reader import read_lead_record
from leadsync.soap.records import LeadEncoder, child_text
from leadsync.soap.writer import element, success


@operation("syncLead")
def sync_lead_handler(ctx: CallContext) -> CallOutcome:
    catalogue = catalogue_of(ctx.store.custom_fields())
    record, return_lead = read_sync_lead(ctx, catalogue)
    policy = sync_lead_policy(ctx.settings)
    result = sync_lead(
        ctx.store,
        catalogue,
        record,
        policy,
        target_workspace=ctx.request.target_workspace,
        clock=ctx.clock,
    )
    return sync_lead_answer(result.status, result.lead if return_lead else None, catalogue)


def read_sync_lead(ctx: CallContext, catalogue: FieldCatalogue) -> tuple[LeadInput, bool]:
    """syncLead's record (its cookie in it) and returnLead; the bridge reads through this."""
    params = ctx.request.params
    record_el = xml.child(params, "leadRecord")
    if record_el is None or xml.is_nil(record_el):
        raise LeadDetailRequired("Lead Detail Required: leadRecord is missing")
    record = read_lead_record(record_el, catalogue)
    cookie = (child_text(params, "marketoCookie") or "").strip()
    if cookie:
        record.cookie = cookie
    # returnLead is required by the schema; a client that leaves it out gets no record.
    return record, parse_bool(child_text(params, "returnLead"), "returnLead", False)


def sync_lead_policy(settings: Settings) -> SyncLeadPolicy:
    return SyncLeadPolicy(
        write_key_email=settings.sync_lead_writes_key_email,
        failure_faults=settings.sync_lead_failure_faults,
        workspace=settings.workspace,
    )


def sync_lead_answer(
    status: RecordStatus, lead: Lead | None, catalogue: FieldCatalogue
) -> CallOutcome:
    """The syncLead response; ``lead`` is returned when given (returnLead)."""
    if lead is not None:
        lead_xml = LeadEncoder(catalogue).encode(lead)
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
