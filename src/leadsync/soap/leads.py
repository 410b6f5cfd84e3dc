"""syncMultipleLeads on the wire: XML in -> LeadInput -> operations -> XML out."""

from __future__ import annotations

from lxml import etree

from leadsync.errors import BadParameter, LeadDetailRequired
from leadsync.model import Attribute, LeadInput, SyncOutcome, SyncStatus
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.leads import SyncOptions, sync_leads
from leadsync.soap import xml
from leadsync.soap.operations import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.writer import element, esc, success


def decode_lead_record(el: etree._Element) -> LeadInput:
    """A ``leadRecord`` in any child order, keys matched without regard to case."""
    record = LeadInput()
    for child in xml.children(el):
        name = xml.local(child).casefold()
        if name == "leadattributelist":
            record.attributes = _decode_attributes(child)
            continue
        value = xml.text(child)
        if value is None:
            continue
        if name == "id":
            stripped = value.strip()
            if stripped:
                try:
                    record.id = int(stripped)
                except ValueError:
                    record.decode_error = f"Id must be an integer, not {stripped!r}"
        elif name == "email":
            record.email = value.strip() or None
        elif name == "foreignsyspersonid":
            record.foreign_sys_person_id = value.strip() or None
        elif name == "foreignsystype":
            record.foreign_sys_type = value.strip() or None
    return record


def _decode_attributes(el: etree._Element) -> list[Attribute]:
    attributes = []
    for attr in xml.children(el):
        name = xml.text(xml.child(attr, "attrName"))
        if name is None or not name.strip():
            continue
        attributes.append(Attribute(name.strip(), xml.text(xml.child(attr, "attrValue")) or ""))
    return attributes


def encode_sync_status(status: SyncStatus) -> str:
    return (
        f"<syncStatus><leadId>{status.lead_id}</leadId><status>{status.status.value}</status>"
        f"{element('error', status.error)}</syncStatus>"
    )


@operation("syncMultipleLeads")
def sync_multiple_leads(ctx: CallContext) -> CallOutcome:
    params = ctx.request.params
    record_list = xml.child(params, "leadRecordList")
    if record_list is None or xml.is_nil(record_list):
        raise LeadDetailRequired("Lead Detail Required: leadRecordList is missing")
    elements = list(xml.children(record_list))
    if not elements:
        raise LeadDetailRequired("Lead Detail Required: leadRecordList holds no leadRecord")
    cap = ctx.settings.max_records_per_call
    if cap and len(elements) > cap:
        raise BadParameter(
            f"leadRecordList holds {len(elements)} records; at most {cap} are allowed"
        )
    dedup = parse_bool(xml.text(xml.child(params, "dedupEnabled")), "dedupEnabled", True)
    records = [decode_lead_record(el) for el in elements]
    options = SyncOptions(
        operation="syncMultipleLeads",
        dedup=dedup,
        write_key_email=ctx.settings.sync_multiple_writes_key_email,
        unknown_attributes=ctx.settings.unknown_attributes,
    )
    catalogue = FieldCatalogue(ctx.store.custom_fields())
    result = sync_leads(ctx.store, catalogue, records, options)
    body = "".join(encode_sync_status(s) for s in result.statuses)
    return CallOutcome(
        body=success(
            "syncMultipleLeads", f"<result><syncStatusList>{body}</syncStatusList></result>"
        ),
        records=len(records),
        created=result.count(SyncOutcome.CREATED),
        updated=result.count(SyncOutcome.UPDATED),
        failed=result.count(SyncOutcome.FAILED),
    )


__all__ = ["decode_lead_record", "encode_sync_status", "esc"]
