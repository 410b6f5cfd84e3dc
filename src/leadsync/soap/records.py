"""XML shared by the lead API's handlers: lead keys, selectors and LeadRecords.

Input is read leniently (any child order, xsi:type resolved against the element's own
namespace declarations, a missing xsi:type inferred from the children); output follows
the WSDL's schema order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from leadsync.errors import BadParameter, LeadKeyRequired, ParameterRequired
from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.mktows.ns import MKTOWS, XSI_TYPE
from leadsync.model import FieldDef, Lead
from leadsync.operations.fields import FieldCatalogue, parse_datetime, render
from leadsync.operations.keys import LeadKey, make_key, parse_key_type
from leadsync.operations.reads import KeySelector, ListSelector, Selector, UpdatedSelector
from leadsync.soap.writer import element

# -- reading ------------------------------------------------------------------------------


def child_text(parent: etree._Element | None, name: str) -> str | None:
    return None if parent is None else xml.text(xml.child(parent, name))


def lead_key(parent: etree._Element, name: str = "leadKey") -> LeadKey:
    """A ``LeadKey`` child (20101 when missing, 20102 for a bad keyType)."""
    el = xml.child(parent, name)
    if el is None or xml.is_nil(el):
        raise LeadKeyRequired(f"Lead Key Required: {name} is missing")
    return make_key(child_text(el, "keyType"), child_text(el, "keyValue"))


def string_items(el: etree._Element | None) -> tuple[str, ...] | None:
    """An ArrayOfString's items, trimmed, empty ones dropped; None when the array is absent."""
    if el is None or xml.is_nil(el):
        return None
    items = (xml.text(item) for item in xml.children(el))
    return tuple(s.strip() for s in items if s and s.strip())


def datetime_value(el: etree._Element | None, name: str) -> datetime | None:
    text = xml.text(el)
    if text is None or not text.strip():
        return None
    try:
        return parse_datetime(text.strip(), name)
    except ValueError:
        raise BadParameter(f"{name} is not a date-time: {text.strip()!r}") from None


def int_value(el: etree._Element | None, name: str) -> int | None:
    try:
        return xml.int_text(el)
    except ValueError:
        given = (xml.text(el) or "").strip()
        raise BadParameter(f"{name} must be a whole number, not {given!r}") from None


def _xsi_type(el: etree._Element) -> str | None:
    value = el.get(XSI_TYPE)
    if not value or not value.strip():
        return None
    prefix, _, local = value.strip().rpartition(":")
    namespace = el.nsmap.get(prefix or None)
    if namespace is not None and namespace != MKTOWS:
        raise BadParameter(f"leadSelector type {value.strip()!r} is not a Marketo type")
    return local


_SELECTOR_HINTS = (
    ("keyType", "LeadKeySelector"),
    ("keyValues", "LeadKeySelector"),
    ("oldestUpdatedAt", "LastUpdateAtSelector"),
    ("latestUpdatedAt", "LastUpdateAtSelector"),
    ("staticListName", "StaticListSelector"),
    ("staticListId", "StaticListSelector"),
)


def lead_selector(el: etree._Element | None) -> Selector | None:
    """The concrete LeadSelector named by xsi:type (or, without one, by its children)."""
    if el is None or xml.is_nil(el):
        return None
    kind = _xsi_type(el)
    if kind is None:
        kind = next((k for tag, k in _SELECTOR_HINTS if xml.child(el, tag) is not None), None)
        if kind is None:
            raise BadParameter("leadSelector needs an xsi:type")
    reader = _SELECTORS.get(kind)
    if reader is None:
        raise BadParameter(f"leadSelector type {kind!r} is not a lead selector")
    return reader(el)


def _key_selector(el: etree._Element) -> Selector:
    key_type = parse_key_type(child_text(el, "keyType"))
    return KeySelector(key_type, string_items(xml.child(el, "keyValues")) or ())


def _updated_selector(el: etree._Element) -> Selector:
    oldest = datetime_value(xml.child(el, "oldestUpdatedAt"), "oldestUpdatedAt")
    if oldest is None:
        raise ParameterRequired("Parameter Required: oldestUpdatedAt is missing")
    return UpdatedSelector(
        oldest, datetime_value(xml.child(el, "latestUpdatedAt"), "latestUpdatedAt")
    )


def _list_selector(el: etree._Element) -> Selector:
    name = child_text(el, "staticListName")
    list_id = int_value(xml.child(el, "staticListId"), "staticListId")
    return ListSelector((name or "").strip() or None, list_id)


_SELECTORS: dict[str, Callable[[etree._Element], Selector]] = {
    "LeadKeySelector": _key_selector,
    "LastUpdateAtSelector": _updated_selector,
    "StaticListSelector": _list_selector,
}

# -- writing ------------------------------------------------------------------------------


_ATTRIBUTE_END = "</attrValue></attribute>"
#: Per field: its name, the markup before its value, and its definition.
_Plan = tuple[tuple[str, str, FieldDef | None], ...]


class LeadEncoder:
    """LeadRecords in schema order, attributes sorted by name and typed with attrType.

    A page of a thousand leads is mostly markup around values, and its leads mostly hold the
    same fields: the sorted, pre-rendered markup is built once per set of field names.
    """

    def __init__(self, catalogue: FieldCatalogue, include: frozenset[str] | None = None) -> None:
        self._catalogue = catalogue
        self._include = include
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def _plan(self, names: tuple[str, ...]) -> _Plan:
        include = self._include
        chosen = sorted(
            (n for n in names if include is None or n in include), key=lambda n: n.casefold()
        )
        plan = []
        for name in chosen:
            fdef = self._catalogue.get(name)
            kind = fdef.type.value if fdef else "string"
            head = (
                f"<attribute><attrName>{esc(name)}</attrName><attrType>{kind}</attrType><attrValue>"
            )
            plan.append((name, head, fdef))
        return tuple(plan)

    def _attributes(self, lead: Lead, out: list[str]) -> None:
        values = lead.values
        names = tuple(values)
        plan = self._plans.get(names)
        if plan is None:
            plan = self._plans[names] = self._plan(names)
        append = out.append
        for name, head, fdef in plan:
            value = values[name]
            kind = type(value)
            if kind is str:
                if value:
                    append(head)
                    append(esc(value))  # type: ignore[arg-type]
                    append(_ATTRIBUTE_END)
            elif kind is int:
                append(head)
                append(str(value))
                append(_ATTRIBUTE_END)
            elif value is not None:
                append(head)
                append(esc(render(fdef, value) if fdef else str(value)))
                append(_ATTRIBUTE_END)

    def _record(self, lead: Lead, out: list[str]) -> None:
        out.append(
            f"<leadRecord><Id>{lead.id}</Id>{element('Email', lead.email)}"
            f"{element('ForeignSysPersonId', lead.foreign_sys_person_id)}"
            f"{element('ForeignSysType', lead.foreign_sys_type)}<leadAttributeList>"
        )
        self._attributes(lead, out)
        out.append("</leadAttributeList></leadRecord>")

    def encode(self, lead: Lead) -> str:
        parts: list[str] = []
        self._record(lead, parts)
        return "".join(parts)

    def encode_list(self, leads: list[Lead]) -> str:
        # One flat list joined once: no intermediate string per attribute or per lead.
        parts = ["<leadRecordList>"]
        for lead in leads:
            self._record(lead, parts)
        parts.append("</leadRecordList>")
        return "".join(parts)


def w3c(value: datetime) -> str:
    """xs:dateTime as Marketo writes it: seconds and a numeric offset."""
    return value.isoformat(timespec="seconds")
