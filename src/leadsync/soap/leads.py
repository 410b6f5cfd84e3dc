"""syncMultipleLeads on the wire: XML in -> LeadInput -> operations -> XML out."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

from leadsync.errors import BadParameter, LeadDetailRequired
from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.model import Attribute, LeadInput, RecordStatus, SyncOutcome, Value
from leadsync.operations.fields import STRING_MAX_CHARS, FieldCatalogue
from leadsync.operations.sync import SyncOptions, sync_leads
from leadsync.soap.handlers import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.writer import element, success

if TYPE_CHECKING:
    from leadsync.soap._speedups import RecordParts

_RECORD_FIELDS = {
    "id": "id",
    "email": "email",
    "foreignsyspersonid": "fsp",
    "foreignsystype": "fsp_type",
    "leadattributelist": "attributes",
}
#: Exact tags as clients usually send them, so the common case needs no case folding.
_EXACT = {
    "Id": "id",
    "Email": "email",
    "ForeignSysPersonId": "fsp",
    "foreignSysPersonId": "fsp",
    "ForeignSysType": "fsp_type",
    "foreignSysType": "fsp_type",
    "leadAttributeList": "attributes",
}

_read_in_c: (
    Callable[
        [etree._Element, dict[str, Any], dict[str, Any], int],
        list[RecordParts | etree._Element],
    ]
    | None
)
try:
    # Reads the common shape of a record list in C; absent when the package was installed
    # without a compiler, and then the Python reader below does all of it.
    from leadsync.soap._speedups import read_lead_records as _read_in_c
except ImportError:  # pragma: no cover - depends on how the package was built
    _read_in_c = None


def decode_lead_records(record_list: etree._Element, catalogue: FieldCatalogue) -> list[LeadInput]:
    """Every element child of a ``leadRecordList``, in order."""
    if _read_in_c is None:
        return [decode_lead_record(el) for el in xml.children(record_list)]
    return [
        lead_input(*parts) if isinstance(parts, tuple) else decode_lead_record(parts)
        for parts in _read_in_c(record_list, catalogue.plain, catalogue.exact, STRING_MAX_CHARS)
    ]


def decode_lead_record(el: etree._Element) -> LeadInput:
    """A ``leadRecord`` in any child order, keys matched without regard to case."""
    texts: dict[str, str] = {}
    attributes: list[Attribute] = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        kind = _EXACT.get(tag) or _RECORD_FIELDS.get(tag.rpartition("}")[2].casefold())
        if kind is None:
            continue
        if kind == "attributes":
            attributes = _decode_attributes(child)
            continue
        value = xml.text(child)
        if value is not None:
            texts[kind] = value
    return lead_input(
        texts.get("id"), texts.get("email"), texts.get("fsp"), texts.get("fsp_type"), attributes
    )


def lead_input(
    id_text: str | None,
    email: str | None,
    fsp: str | None,
    fsp_type: str | None,
    attributes: list[Attribute],
    typed: dict[str, Value] | None = None,
) -> LeadInput:
    """A record from the text of its key elements (None when absent or nil)."""
    record = LeadInput(
        email=email.strip() or None if email is not None else None,
        foreign_sys_person_id=fsp.strip() or None if fsp is not None else None,
        foreign_sys_type=fsp_type.strip() or None if fsp_type is not None else None,
        attributes=attributes,
        typed={} if typed is None else typed,
    )
    if id_text is not None and (id_text := id_text.strip()):
        try:
            record.id = int(id_text)
        except ValueError:
            record.decode_error = f"Id must be an integer, not {id_text!r}"
        else:
            if not 0 < record.id < 2**63:
                record.decode_error = f"Lead not found: Id {id_text}"
                record.id = None
    return record


def _decode_attributes(el: etree._Element) -> list[Attribute]:
    # Nearly every client writes <attrName> then <attrValue>, unqualified; lxml finds those
    # in C and the pairs are read in one pass. Any other shape (another order, qualified
    # names, a part missing) leaves fewer pairs than attributes and takes the general path.
    attributes: list[Attribute] = []
    append = attributes.append
    name: str | None = None
    for part in el.iter("attrName", "attrValue"):
        if part.tag == "attrName":
            name = part.text
        elif name is not None:
            stripped = name.strip()
            if stripped:
                append((stripped, part.text or ""))
            name = None
    if len(attributes) == len(el):
        return attributes
    attributes.clear()
    for attr in el:
        _decode_attribute_slowly(attr, attributes)
    return attributes


def _decode_attribute_slowly(attr: etree._Element, into: list[Attribute]) -> None:
    name: str | None = None
    value: str | None = None
    for part in xml.children(attr):
        local = xml.local(part)
        if local == "attrName":
            name = xml.text(part)
        elif local == "attrValue":
            value = xml.text(part)
    if name and (name := name.strip()):
        into.append((name, value or ""))


def encode_sync_status(status: RecordStatus) -> str:
    error = _NIL_ERROR if status.error is None else element("error", status.error)
    return (
        f"<syncStatus><leadId>{status.lead_id}</leadId><status>{status.status.value}</status>"
        f"{error}</syncStatus>"
    )


_NIL_ERROR = element("error", None)


@operation("syncMultipleLeads")
def sync_multiple_leads(ctx: CallContext) -> CallOutcome:
    params = ctx.request.params
    record_list = xml.child(params, "leadRecordList")
    if record_list is None or xml.is_nil(record_list):
        raise LeadDetailRequired("Lead Detail Required: leadRecordList is missing")
    catalogue = FieldCatalogue(ctx.store.custom_fields())
    records = decode_lead_records(record_list, catalogue)
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
    result = sync_leads(ctx.store, catalogue, records, options, clock=ctx.clock)
    counts = dict.fromkeys(SyncOutcome, 0)
    parts = []
    for status in result.statuses:
        counts[status.status] += 1
        parts.append(encode_sync_status(status))
    body = "".join(parts)
    return CallOutcome(
        body=success(
            "syncMultipleLeads", f"<result><syncStatusList>{body}</syncStatusList></result>"
        ),
        records=len(records),
        created=counts[SyncOutcome.CREATED],
        updated=counts[SyncOutcome.UPDATED],
        failed=counts[SyncOutcome.FAILED],
        statuses=result.statuses,
    )


__all__ = ["decode_lead_record", "decode_lead_records", "encode_sync_status", "esc"]
