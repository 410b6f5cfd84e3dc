"""Request envelopes out, responses and faults in.

Requests are assembled as text: a record is serialised once, to bytes, so a batch can be
sized exactly and re-signed on every attempt by swapping only the header. Responses go
through one hardened parser: no DTD, no entity expansion, no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from leadsync.client.errors import MktowsFault, ProtocolError
from leadsync.client.models import (
    AttrValue,
    FieldInfo,
    LastUpdateAtSelector,
    Lead,
    LeadKeySelector,
    LeadSelector,
    StaticListSelector,
    SyncStatus,
)
from leadsync.mktows import xml
from leadsync.mktows.codes import FaultCode
from leadsync.mktows.escaping import NotXmlCharacter, esc
from leadsync.mktows.ns import BODY, ENVELOPE, MKTOWS, SOAP_ENV, XSI, XSI_NIL, qn
from leadsync.mktows.signing import signed_header

_FAULT = qn(SOAP_ENV, "Fault")

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def soap_action(operation: str) -> str:
    return MKTOWS + operation


class RecordError(ValueError):
    """A record that cannot be put on the wire; it fails alone, before anything is sent."""


def attr_text(value: AttrValue) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


def lead_record(lead: Lead, element: str = "leadRecord") -> bytes:
    """``<leadRecord>`` in schema order (Id, Email, ForeignSysPersonId, ForeignSysType,
    leadAttributeList), as UTF-8. Raises RecordError for a value that cannot be sent."""
    parts = [f"<{element}>"]
    if lead.id is not None:
        parts.append(f"<Id>{int(lead.id)}</Id>")
    if lead.email is not None:
        parts.append(f"<Email>{_field('Email', lead.email)}</Email>")
    if lead.foreign_sys_person_id is not None:
        value = _field("ForeignSysPersonId", lead.foreign_sys_person_id)
        parts.append(f"<ForeignSysPersonId>{value}</ForeignSysPersonId>")
    if lead.foreign_sys_type is not None:
        parts.append(
            f"<ForeignSysType>{_field('ForeignSysType', lead.foreign_sys_type)}</ForeignSysType>"
        )
    if lead.attributes:
        parts.append("<leadAttributeList>")
        for name, attr in lead.attributes.items():
            if attr is None:
                continue
            parts.append(
                f"<attribute><attrName>{_field('an attribute name', name)}</attrName>"
                f"<attrValue>{_field(name, attr_text(attr))}</attrValue></attribute>"
            )
        parts.append("</leadAttributeList>")
    parts.append(f"</{element}>")
    return "".join(parts).encode("utf-8")


def _field(name: str, text: str) -> str:
    try:
        return esc(text)
    except NotXmlCharacter as exc:
        raise RecordError(f"value of {name} {exc}") from None


def envelope_prefix(user_id: str, encryption_key: str, operation: str) -> bytes:
    """Everything before the operation's children, signed now."""
    stamp, signature = signed_header(user_id, encryption_key)
    wrapper = "params" + operation[:1].upper() + operation[1:]
    return (
        f'{XML_DECL}<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{MKTOWS}"'
        f' xmlns:xsi="{XSI}"><SOAP-ENV:Header><ns1:AuthenticationHeader>'
        f"<mktowsUserId>{esc(user_id)}</mktowsUserId>"
        f"<requestSignature>{signature}</requestSignature>"
        f"<requestTimestamp>{stamp}</requestTimestamp>"
        f"</ns1:AuthenticationHeader></SOAP-ENV:Header><SOAP-ENV:Body><ns1:{wrapper}>"
    ).encode()


def envelope_suffix(operation: str) -> bytes:
    wrapper = "params" + operation[:1].upper() + operation[1:]
    return f"</ns1:{wrapper}></SOAP-ENV:Body></SOAP-ENV:Envelope>".encode()


#: Room the envelope around a syncMultipleLeads batch takes, for sizing batches. A user id
#: is short in practice; ``sync_overhead`` gives the exact figure for a given one.
def sync_overhead(user_id: str) -> int:
    prefix = envelope_prefix(user_id, "k", "syncMultipleLeads")
    tail = b"</leadRecordList><dedupEnabled>false</dedupEnabled>"
    return (
        len(prefix)
        + len(b"<leadRecordList>")
        + len(tail)
        + len(envelope_suffix("syncMultipleLeads"))
    )


def sync_multiple_leads(
    user_id: str, encryption_key: str, records: Iterable[bytes], dedup: bool
) -> bytes:
    operation = "syncMultipleLeads"
    return b"".join(
        (
            envelope_prefix(user_id, encryption_key, operation),
            b"<leadRecordList>",
            *records,
            b"</leadRecordList><dedupEnabled>",
            b"true" if dedup else b"false",
            b"</dedupEnabled>",
            envelope_suffix(operation),
        )
    )


def request(user_id: str, encryption_key: str, operation: str, body: str) -> bytes:
    return (
        envelope_prefix(user_id, encryption_key, operation)
        + body.encode("utf-8")
        + envelope_suffix(operation)
    )


def sync_lead_body(record: bytes, return_lead: bool) -> str:
    flag = "true" if return_lead else "false"
    return record.decode("utf-8") + f"<returnLead>{flag}</returnLead>"


def get_lead_body(key_type: str, key_value: str) -> str:
    return (
        f"<leadKey><keyType>{esc(key_type)}</keyType>"
        f"<keyValue>{esc(key_value)}</keyValue></leadKey>"
    )


def describe_body(object_name: str) -> str:
    return f"<objectName>{esc(object_name)}</objectName>"


def get_multiple_leads_body(
    selector: LeadSelector,
    stream_position: str | None,
    batch_size: int | None,
    include_attributes: Iterable[str] | None,
) -> str:
    parts = [_selector(selector)]
    if stream_position:
        parts.append(f"<streamPosition>{esc(stream_position)}</streamPosition>")
    if batch_size is not None:
        parts.append(f"<batchSize>{int(batch_size)}</batchSize>")
    if include_attributes is not None:
        items = "".join(f"<stringItem>{esc(name)}</stringItem>" for name in include_attributes)
        parts.append(f"<includeAttributes>{items}</includeAttributes>")
    return "".join(parts)


def _selector(selector: LeadSelector) -> str:
    if isinstance(selector, LeadKeySelector):
        values = "".join(f"<stringItem>{esc(v)}</stringItem>" for v in selector.key_values)
        return (
            '<leadSelector xsi:type="ns1:LeadKeySelector">'
            f"<keyType>{esc(selector.key_type)}</keyType><keyValues>{values}</keyValues>"
            "</leadSelector>"
        )
    if isinstance(selector, StaticListSelector):
        inner = ""
        if selector.name is not None:
            inner += f"<staticListName>{esc(selector.name)}</staticListName>"
        if selector.id is not None:
            inner += f"<staticListId>{int(selector.id)}</staticListId>"
        return f'<leadSelector xsi:type="ns1:StaticListSelector">{inner}</leadSelector>'
    if isinstance(selector, LastUpdateAtSelector):
        inner = ""
        if selector.latest is not None:
            inner += f"<latestUpdatedAt>{selector.latest.isoformat()}</latestUpdatedAt>"
        inner += f"<oldestUpdatedAt>{selector.oldest.isoformat()}</oldestUpdatedAt>"
        return f'<leadSelector xsi:type="ns1:LastUpdateAtSelector">{inner}</leadSelector>'
    raise TypeError(f"not a lead selector: {selector!r}")


# -- reading ---------------------------------------------------------------------------------


def parse(data: bytes) -> etree._Element:
    """Parse an answer through the kit's hardened parser; a DTD, or anything not
    well-formed, is a ProtocolError."""
    try:
        return xml.parse(data)
    except xml.XmlRefused as exc:
        raise ProtocolError(f"the answer is refused: {exc}") from None


def _int(el: etree._Element | None) -> int | None:
    try:
        return xml.int_text(el)
    except ValueError:
        name = xml.local(el) if el is not None else ""
        raise ProtocolError(f"expected an integer in <{name}>: {xml.text(el)!r}") from None


def _bool(el: etree._Element | None) -> bool:
    return (xml.text(el) or "").strip().lower() in ("true", "1")


def body_element(data: bytes, http_status: int) -> etree._Element:
    """The first element of the Body; raises MktowsFault for a Fault."""
    root = parse(data)
    if root.tag != ENVELOPE:
        raise ProtocolError("the answer is not a SOAP 1.1 Envelope", http_status=http_status)
    body = next((c for c in xml.children(root) if c.tag == BODY), None)
    first = next(xml.children(body), None) if body is not None else None
    if first is None:
        raise ProtocolError("the answer's SOAP Body is empty", http_status=http_status)
    if first.tag == _FAULT:
        raise read_fault(first, http_status)
    return first


_KNOWN_CODES = frozenset(int(code) for code in FaultCode)


def read_fault(fault: etree._Element, http_status: int) -> MktowsFault:
    faultstring = (xml.text(xml.child(fault, "faultstring")) or "").strip()
    faultcode = (xml.text(xml.child(fault, "faultcode")) or "").strip()
    exception = xml.child(xml.child(fault, "detail"), "serviceException")
    message = (xml.text(xml.child(exception, "message")) or "").strip()
    code: int | None = None
    code_text = (xml.text(xml.child(exception, "code")) or "").strip()
    if code_text.isdigit():
        code = int(code_text)
    else:
        # A server without the detail block still leads the faultstring with the code.
        head = faultstring.split(" ", 1)[0]
        if head.isdigit():
            code = int(head)
    if code in _KNOWN_CODES:
        code = FaultCode(code)
    return MktowsFault(code, faultstring, message, faultcode=faultcode, http_status=http_status)


def success(data: bytes, operation: str, http_status: int) -> etree._Element:
    """The ``successXxx`` element of an answer to ``operation``."""
    first = body_element(data, http_status)
    wanted = "success" + operation[:1].upper() + operation[1:]
    if xml.local(first) != wanted:
        raise ProtocolError(
            f"expected <{wanted}> in the answer, found <{xml.local(first)}>",
            http_status=http_status,
        )
    return first


def _result(el: etree._Element) -> etree._Element:
    result = xml.child(el, "result")
    if result is None:
        raise ProtocolError(f"<{xml.local(el)}> has no <result>")
    return result


_STATUSES = {s.value: s for s in SyncStatus if s is not SyncStatus.UNKNOWN}


def sync_statuses(el: etree._Element) -> list[tuple[SyncStatus, int | None, str | None]]:
    """``(status, lead id or None, error)`` for each syncStatus, in document order."""
    status_list = xml.child(_result(el), "syncStatusList")
    if status_list is None:
        raise ProtocolError("<result> has no <syncStatusList>")
    # Hundreds of statuses per answer: one pass over each one's children, by local name.
    found: list[tuple[SyncStatus, int | None, str | None]] = []
    for item in status_list:
        if not isinstance(item.tag, str):
            continue
        lead_id_text = status_text = error = None
        for c in item:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = tag[tag.rfind("}") + 1 :]
            if name == "leadId":
                lead_id_text = c.text
            elif name == "status":
                status_text = c.text
            elif name == "error" and c.get(XSI_NIL) not in ("true", "1"):
                error = c.text or ""
        status = _STATUSES.get((status_text or "").strip())
        if status is None:
            raise ProtocolError(f"unknown syncStatus status {status_text!r}")
        try:
            lead_id = int(lead_id_text) if lead_id_text and lead_id_text.strip() else None
        except ValueError:
            raise ProtocolError(f"expected an integer in <leadId>: {lead_id_text!r}") from None
        if status is SyncStatus.FAILED and lead_id == 0:
            lead_id = None
        found.append((status, lead_id, error))
    return found


def _sync_status(item: etree._Element) -> tuple[SyncStatus, int | None, str | None]:
    raw = (xml.text(xml.child(item, "status")) or "").strip()
    status = _STATUSES.get(raw)
    if status is None:
        raise ProtocolError(f"unknown syncStatus status {raw!r}")
    lead_id = _int(xml.child(item, "leadId"))
    if status is SyncStatus.FAILED and lead_id == 0:
        lead_id = None
    return status, lead_id, xml.text(xml.child(item, "error"))


def sync_lead_result(el: etree._Element) -> tuple[SyncStatus, int | None, str | None, Lead | None]:
    result = _result(el)
    status_el = xml.child(result, "syncStatus")
    if status_el is None:
        raise ProtocolError("<result> has no <syncStatus>")
    status, lead_id, error = _sync_status(status_el)
    record = xml.child(result, "leadRecord")
    lead = read_lead(record) if record is not None and xml.text(record) is not None else None
    return status, lead_id, error, lead


def read_lead(el: etree._Element) -> Lead:
    lead = Lead(
        id=_int(xml.child(el, "Id")),
        email=xml.text(xml.child(el, "Email")),
        foreign_sys_person_id=xml.text(xml.child_ci(el, "ForeignSysPersonId")),
        foreign_sys_type=xml.text(xml.child(el, "ForeignSysType")),
    )
    attributes = xml.child(el, "leadAttributeList")
    if attributes is not None:
        for attr in xml.children(attributes):
            name = xml.text(xml.child(attr, "attrName"))
            if not name:
                continue
            lead.attributes[name] = xml.text(xml.child(attr, "attrValue"))
            attr_type = xml.text(xml.child(attr, "attrType"))
            if attr_type:
                lead.attribute_types[name] = attr_type
    return lead


def lead_records(el: etree._Element | None) -> list[Lead]:
    if el is None:
        return []
    return [read_lead(c) for c in xml.children(el) if xml.local(c) == "leadRecord"]


def get_lead_result(el: etree._Element) -> list[Lead]:
    return lead_records(xml.child(_result(el), "leadRecordList"))


def get_multiple_leads_result(el: etree._Element) -> tuple[list[Lead], int, str | None]:
    """``(leads, remainingCount, newStreamPosition)``."""
    result = _result(el)
    remaining = _int(xml.child(result, "remainingCount")) or 0
    position = (xml.text(xml.child(result, "newStreamPosition")) or "").strip() or None
    return lead_records(xml.child(result, "leadRecordList")), remaining, position


def describe_result(el: etree._Element) -> list[FieldInfo]:
    metadata = xml.child(_result(el), "metadata")
    field_list = xml.child(metadata, "fieldList")
    fields = []
    for f in xml.children(field_list) if field_list is not None else ():
        name = (xml.text(xml.child(f, "name")) or "").strip()
        if not name:
            continue
        fields.append(
            FieldInfo(
                name=name,
                data_type=(xml.text(xml.child(f, "dataType")) or "string").strip(),
                display_name=xml.text(xml.child(f, "displayName")),
                description=xml.text(xml.child(f, "description")),
                size=_int(xml.child(f, "size")),
                is_readonly=_bool(xml.child(f, "isReadonly")),
                is_update_blocked=_bool(xml.child(f, "isUpdateBlocked")),
                is_custom=_bool(xml.child(f, "isCustom")),
            )
        )
    return fields
