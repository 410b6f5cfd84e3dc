"""syncMultipleLeads on the wire: XML in -> LeadInput -> operations -> XML out."""

from __future__ import annotations

from collections.abc import Sequence

from leadsync.errors import BadParameter, LeadDetailRequired
from leadsync.mktows import xml
from leadsync.model import LeadInput, RecordStatus, SyncOutcome
from leadsync.operations.fields import FieldCatalogue, catalogue_of
from leadsync.operations.sync import SyncOptions, sync_leads
from leadsync.soap.handlers import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.record_reader import read_lead_records
from leadsync.soap.writer import element, success


def encode_sync_status(status: RecordStatus) -> str:
    error = _NIL_ERROR if status.error is None else element("error", status.error)
    # A StrEnum formats as its value, without the ``.value`` descriptor (once a record).
    return (
        f"<syncStatus><leadId>{status.lead_id}</leadId><status>{status.status}</status>"
        f"{error}</syncStatus>"
    )


_NIL_ERROR = element("error", None)


@operation("syncMultipleLeads")
def sync_multiple_leads(ctx: CallContext) -> CallOutcome:
    catalogue = catalogue_of(ctx.store.custom_fields())
    records, options = read_sync_request(ctx, catalogue)
    result = sync_leads(ctx.store, catalogue, records, options, clock=ctx.clock)
    return sync_answer(result.statuses)


def read_sync_request(
    ctx: CallContext, catalogue: FieldCatalogue
) -> tuple[list[LeadInput], SyncOptions]:
    """A syncMultipleLeads request's records and options (faults for what is wrong with the
    call as a whole); the bridge reads its calls through this too."""
    params = ctx.request.params
    record_list = xml.child(params, "leadRecordList")
    if record_list is None or xml.is_nil(record_list):
        raise LeadDetailRequired("Lead Detail Required: leadRecordList is missing")
    records = read_lead_records(record_list, catalogue)
    if not records:
        raise LeadDetailRequired("Lead Detail Required: leadRecordList holds no leadRecord")
    cap = ctx.settings.max_records_per_call
    if cap and len(records) > cap:
        raise BadParameter(
            f"leadRecordList holds {len(records)} records; at most {cap} are allowed"
        )
    dedup = parse_bool(xml.text(xml.child(params, "dedupEnabled")), "dedupEnabled", True)
    options = SyncOptions(
        operation="syncMultipleLeads",
        dedup=dedup,
        write_key_email=ctx.settings.sync_multiple_writes_key_email,
        unknown_attributes=ctx.settings.unknown_attributes,
    )
    return records, options


def sync_answer(statuses: Sequence[RecordStatus]) -> CallOutcome:
    """The syncMultipleLeads response for ``statuses``, one per record in input order."""
    body = "".join([encode_sync_status(status) for status in statuses])
    # Counted by identity: an enum member's hash is a Python call, once a record in a dict.
    outcomes = [status.status for status in statuses]
    return CallOutcome(
        body=success(
            "syncMultipleLeads", f"<result><syncStatusList>{body}</syncStatusList></result>"
        ),
        records=len(statuses),
        created=outcomes.count(SyncOutcome.CREATED),
        updated=outcomes.count(SyncOutcome.UPDATED),
        failed=outcomes.count(SyncOutcome.FAILED),
        statuses=statuses,
    )
