"""THE reader of ``leadRecord`` elements: XML (as the one hardened parser built it) in,
``LeadInput`` out. syncMultipleLeads and syncLead read records only through it.

``read_lead_record`` is the definition (docs/compatibility.md, "Reading a leadRecord"):

- key elements (``Id``, ``Email``, ``ForeignSysPersonId``, ``ForeignSysType``) match by local
  name without regard to case or namespace; the last non-nil one of a kind counts; other
  children are ignored;
- a later ``leadAttributeList`` replaces an earlier one; every element child of it is an
  attribute, which must hold exactly one ``attrName`` (not blank) and one ``attrValue``
  (nil or empty clears the field); ``attrType`` and anything else is ignored. An attribute
  of any other shape fails its record, naming it, and nothing of that record is written;
- when every attribute name is a field's exact spelling, the values of plain text fields
  up to STRING_MAX_CHARS long are typed here with the one typing function
  (``operations.text.plain_text``), so the sync does not type them again; otherwise
  every attribute stays a (name, value) pair, in order, for the sync to type.

``read_lead_records`` reads a ``leadRecordList``. The compiled reader
(``soap/_speedups.pyx``) accelerates exactly that: it reads the common shape itself and
hands every other record to ``read_lead_record``; a property-based test
(tests/soap/test_record_reader_property.py) proves both give equal records for every input.
Set ``LEADSYNC_NO_SPEEDUPS=1`` (read once, at import) to run without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from lxml import etree

from leadsync.mktows import xml
from leadsync.model import Attribute, LeadInput, Value
from leadsync.operations.fields import STRING_MAX_CHARS, FieldCatalogue
from leadsync.operations.text import plain_text

if TYPE_CHECKING:
    from leadsync.soap._speedups import MakeRecord

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

NativeReader = Callable[
    [etree._Element, dict[str, Any], dict[str, Any], int, "MakeRecord"],
    tuple[list["LeadInput | etree._Element"], list[int]],
]


def _load_native() -> NativeReader | None:
    if os.environ.get("LEADSYNC_NO_SPEEDUPS", "").strip() not in ("", "0"):
        return None
    try:
        # Absent when the package was installed without a compiler: the Python reader
        # below then reads every record.
        from leadsync.soap._speedups import read_lead_records as native
    except ImportError:  # pragma: no cover - depends on how the package was built
        return None
    return native


#: The compiled reader, or None (not built, or LEADSYNC_NO_SPEEDUPS=1).
native_reader: NativeReader | None = _load_native()


def read_lead_records(record_list: etree._Element, catalogue: FieldCatalogue) -> list[LeadInput]:
    """Every element child of a ``leadRecordList``, in order."""
    if native_reader is None:
        return [read_lead_record(el, catalogue) for el in xml.children(record_list)]
    # The compiled reader makes each record it reads with ``lead_input``, and leaves the
    # elements it does not read where they are, to be read here.
    found, general = native_reader(
        record_list, catalogue.plain, catalogue.exact, STRING_MAX_CHARS, lead_input
    )
    for position in general:
        element = found[position]
        assert isinstance(element, etree._Element)
        found[position] = read_lead_record(element, catalogue)
    return cast(list[LeadInput], found)  # every element is replaced by its record now


def read_lead_record(el: etree._Element, catalogue: FieldCatalogue) -> LeadInput:
    """One ``leadRecord`` (the definition; see the module's docstring)."""
    texts: dict[str, str] = {}
    attributes: list[Attribute] = []
    problems: list[str] = []
    for child in xml.children(el):
        kind = _EXACT.get(child.tag) or _RECORD_FIELDS.get(xml.local(child).casefold())
        if kind is None:
            continue
        if kind == "attributes":
            attributes, problems = _read_attributes(child)
            continue
        value = xml.text(child)
        if value is not None:
            texts[kind] = value
    typed: dict[str, Value] = {}
    if all(name in catalogue.exact for name, _ in attributes):
        pairs: list[Attribute] = []
        plain = catalogue.plain
        for name, value in attributes:
            if name in plain and len(value) <= STRING_MAX_CHARS:
                typed[name] = plain_text(value)
            else:
                pairs.append((name, value))
        attributes = pairs
    record = lead_input(
        texts.get("id"), texts.get("email"), texts.get("fsp"), texts.get("fsp_type"), attributes
    )
    record.typed = typed
    if problems:
        record.decode_error = "; ".join(
            [record.decode_error, *problems] if record.decode_error else problems
        )
    return record


def _read_attributes(el: etree._Element) -> tuple[list[Attribute], list[str]]:
    attributes: list[Attribute] = []
    problems: list[str] = []
    for position, attr in enumerate(xml.children(el), 1):
        names: list[etree._Element] = []
        values: list[etree._Element] = []
        for part in xml.children(attr):
            local = xml.local(part)
            if local == "attrName":
                names.append(part)
            elif local == "attrValue":
                values.append(part)
        if len(names) > 1 or len(values) > 1:
            problems.append(
                f"attribute {position} holds {len(names)} attrName and {len(values)} attrValue"
                " elements; an attribute is one attrName and one attrValue"
            )
            continue
        if not names:
            problems.append(f"attribute {position} has no attrName")
            continue
        name = (xml.text(names[0]) or "").strip()
        if not name:
            problems.append(f"attribute {position} has a blank attrName")
            continue
        if not values:
            problems.append(f"attribute {name} has no attrValue")
            continue
        attributes.append((name, xml.text(values[0]) or ""))
    return attributes, problems


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
