"""The lead field catalogue (Marketo's standard fields plus custom ones) and typing.

Each standard field carries its SOAP name (``FirstName``), its REST name (``firstName``)
and Marketo's field id, as a real Describe Lead shows them (real-describe-2021.json); a
custom field has one name on both APIs.

Values arrive as text; each is converted to its field's type before anything is written,
so a value that does not fit fails its record alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from leadsync.mktows.escaping import first_not_xml
from leadsync.model import FieldDef, FieldType, Value
from leadsync.operations.text import plain_text

_S = FieldType.STRING
STANDARD_FIELDS: tuple[FieldDef, ...] = tuple(
    FieldDef(name, ftype, display_name=display, rest_name=rest, field_id=field_id)
    for name, ftype, display, rest, field_id in (
        ("Address", FieldType.TEXT, "Address", "address", 63),
        ("AnnualRevenue", FieldType.CURRENCY, "Annual Revenue", "annualRevenue", 15),
        ("AnonymousIP", _S, "Anonymous IP", "anonymousIP", 103),
        ("BillingCity", _S, "Billing City", "billingCity", 7),
        ("BillingCountry", _S, "Billing Country", "billingCountry", 9),
        ("BillingPostalCode", _S, "Billing Postal Code", "billingPostalCode", 10),
        ("BillingState", _S, "Billing State", "billingState", 8),
        ("BillingStreet", FieldType.TEXT, "Billing Address", "billingStreet", 6),
        ("City", _S, "City", "city", 64),
        ("Company", _S, "Company Name", "company", 4),
        ("Country", _S, "Country", "country", 66),
        ("DateofBirth", FieldType.DATE, "Date of Birth", "dateOfBirth", 62),
        ("Department", _S, "Department", "department", 126),
        ("DoNotCall", FieldType.BOOLEAN, "Do Not Call", "doNotCall", 82),
        ("DoNotCallReason", _S, "Do Not Call Reason", "doNotCallReason", 84),
        ("Email", FieldType.EMAIL, "Email Address", "email", 56),
        ("Fax", FieldType.PHONE, "Fax Number", "fax", 59),
        ("FirstName", _S, "First Name", "firstName", 53),
        ("Industry", _S, "Industry", "industry", 17),
        ("InferredCompany", _S, "Inferred Company", "inferredCompany", 104),
        ("InferredCountry", _S, "Inferred Country", "inferredCountry", 105),
        ("LastName", _S, "Last Name", "lastName", 55),
        ("LeadRole", _S, "Role", "leadRole", 143),
        ("LeadScore", FieldType.INTEGER, "Lead Score", "leadScore", 146),
        ("LeadSource", _S, "Lead Source", "leadSource", 144),
        ("LeadStatus", _S, "Lead Status", "leadStatus", 145),
        ("MainPhone", FieldType.PHONE, "Main Phone", "mainPhone", 12),
        ("Marketo Jigsaw Contact Id", _S, "Marketo Jigsaw Contact Id", "", 0),
        ("Marketo Jigsaw Contact Status", _S, "Marketo Jigsaw Contact Status", "", 0),
        ("MiddleName", _S, "Middle Name", "middleName", 54),
        ("MobilePhone", FieldType.PHONE, "Mobile Phone Number", "mobilePhone", 58),
        ("NumberOfEmployees", FieldType.INTEGER, "Num Employees", "numberOfEmployees", 16),
        ("Phone", FieldType.PHONE, "Phone Number", "phone", 57),
        ("PostalCode", _S, "Postal Code", "postalCode", 67),
        ("Rating", _S, "Account Rating", "rating", 160),
        ("Salutation", _S, "Salutation", "salutation", 52),
        ("SICCode", _S, "SIC Code", "sicCode", 18),
        ("Site", _S, "Site", "site", 5),
        ("State", _S, "State", "state", 65),
        ("Title", _S, "Job Title", "title", 60),
        ("Unsubscribed", FieldType.BOOLEAN, "Unsubscribed", "unsubscribed", 79),
        ("UnsubscribedReason", FieldType.TEXT, "Unsubscribed Reason", "unsubscribedReason", 81),
        ("Website", FieldType.URL, "Website", "website", 11),
    )
)


#: Names a custom field may not take: the record's own keys and the standard fields.
RESERVED_NAMES = frozenset(
    n.casefold() for n in ("Id", "ForeignSysPersonId", "ForeignSysType", "leadAttributeList")
)
_CUSTOM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")

STRING_MAX_CHARS = 255
TEXT_MAX_BYTES = 32_000
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
_ISO_TZ_FIX = re.compile(r"([+-]\d\d)(\d\d)$")


#: Types whose text is stored as sent (blank clears, ``plain_text``), values up to
#: STRING_MAX_CHARS needing no other check; the record reader types these as it reads.
PLAIN_STRING_TYPES = frozenset({FieldType.STRING, FieldType.PHONE, FieldType.URL})


class FieldCatalogue:
    """Standard and custom fields, looked up by name without regard to case."""

    def __init__(self, custom: Iterable[FieldDef] = ()) -> None:
        self.fields: dict[str, FieldDef] = {}
        for fdef in (*STANDARD_FIELDS, *custom):
            self.fields[fdef.name.casefold()] = fdef
        # Names as clients usually spell them, looked up without case folding.
        self.exact: dict[str, FieldDef] = {f.name: f for f in self.fields.values()}
        self.email: FieldDef = self.exact["Email"]
        #: By REST name (``firstName``); fields with no REST name are absent.
        self.rest: dict[str, FieldDef] = {
            f.rest_name or f.name: f for f in self.fields.values() if f.rest_name or f.custom
        }
        self._rest_folded = {name.casefold(): f for name, f in self.rest.items()}
        #: The plain text fields (PLAIN_STRING_TYPES) by REST name, but Email.
        self.rest_plain: dict[str, FieldDef] = {
            name: f for name, f in self.rest.items() if f.type in PLAIN_STRING_TYPES
        }
        #: The fields among those whose text is stored as sent (see PLAIN_STRING_TYPES).
        self.plain: dict[str, FieldDef] = {
            name: f for name, f in self.exact.items() if f.type in PLAIN_STRING_TYPES
        }

    def get(self, name: str) -> FieldDef | None:
        return self.exact.get(name) or self.fields.get(name.casefold())

    def by_rest_name(self, name: str) -> FieldDef | None:
        return self.rest.get(name) or self._rest_folded.get(name.casefold())

    def all(self) -> list[FieldDef]:
        return sorted(self.fields.values(), key=lambda f: f.name.casefold())


def catalogue_of(custom: Iterable[FieldDef]) -> FieldCatalogue:
    """The catalogue of the standard fields and ``custom``, made once for each set of custom
    fields and then shared: every call asks for one, and making it builds look-up tables of
    every field. Nothing changes a catalogue once made."""
    return _shared_catalogue(tuple(custom))


@functools.lru_cache(maxsize=8)
def _shared_catalogue(custom: tuple[FieldDef, ...]) -> FieldCatalogue:
    return FieldCatalogue(custom)


def validate_custom_name(name: str) -> str | None:
    """Why ``name`` cannot be a custom field, or None when it can."""
    if not _CUSTOM_NAME.match(name):
        return "a field name starts with a letter and holds letters, digits and _ (80 at most)"
    if name.casefold() in RESERVED_NAMES or any(
        f.name.casefold() == name.casefold() for f in STANDARD_FIELDS
    ):
        return f"{name} is a standard lead field"
    return None


def convert(fdef: FieldDef, raw: str) -> Value:
    """Convert the text ``raw`` to ``fdef``'s type; raise ValueError saying why it cannot.

    An empty value clears the field.
    """
    return CONVERTERS[fdef.type](fdef, raw)


def check_characters(what: str, raw: str) -> None:
    """Raise ValueError when ``raw`` holds a character XML 1.0 cannot carry: a stored value
    must be readable by every SOAP client (docs/compatibility.md, "Characters"). A SOAP
    request cannot hold one at all; other ways in (REST) are refused here."""
    if raw.isprintable():
        # ``first_not_xml``'s own first test, without its call: nearly every value passes.
        return
    bad = first_not_xml(raw)
    if bad is not None:
        raise ValueError(f"value for {what} contains U+{ord(bad):04X}, which XML 1.0 cannot carry")


def _to_string(fdef: FieldDef, raw: str) -> Value:
    check_characters(fdef.name, raw)
    if len(raw) > STRING_MAX_CHARS:
        raise ValueError(f"value for {fdef.name} is longer than {STRING_MAX_CHARS} characters")
    return plain_text(raw)


def _to_text(fdef: FieldDef, raw: str) -> Value:
    check_characters(fdef.name, raw)
    if len(raw) > TEXT_MAX_BYTES // 4 and len(raw.encode("utf-8")) > TEXT_MAX_BYTES:
        raise ValueError(f"value for {fdef.name} is longer than {TEXT_MAX_BYTES} bytes")
    return plain_text(raw)


def to_email(fdef: FieldDef, raw: str) -> Value:
    """``convert`` for an email field (a record's key email is typed by it directly)."""
    check_characters(fdef.name, raw)
    text = raw.strip()
    if not text:
        return None
    if len(text) > STRING_MAX_CHARS or not _is_email(text):
        raise ValueError(f"value for {fdef.name} is not an email address: {raw!r}")
    return text


def _is_email(text: str) -> bool:
    """One @ with something on each side, and no whitespace (``text`` is stripped).

    The regular expression ``[^@\\s]+@[^@\\s]+`` says the same at several times the cost;
    every synced record checks its email.
    """
    local, at, domain = text.partition("@")
    return bool(local and at and domain) and "@" not in domain and len(text.split(None, 1)) == 1


def _to_integer(fdef: FieldDef, raw: str) -> Value:
    text = raw.strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"value for {fdef.name} is not an integer: {raw!r}") from None
    if not _INT_MIN <= number <= _INT_MAX:
        raise ValueError(f"value for {fdef.name} is out of the integer range: {raw!r}")
    return number


def _to_number(fdef: FieldDef, raw: str) -> Value:
    text = raw.strip()
    if not text:
        return None
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"value for {fdef.name} is not a number: {raw!r}") from None
    if not dec.is_finite():
        raise ValueError(f"value for {fdef.name} is not a finite number: {raw!r}")
    return float(dec)


def _to_boolean(fdef: FieldDef, raw: str) -> Value:
    lowered = raw.strip().lower()
    if not lowered:
        return None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"value for {fdef.name} is not a boolean: {raw!r}")


def _to_date(fdef: FieldDef, raw: str) -> Value:
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10] if "T" in text else text).isoformat()
    except ValueError:
        raise ValueError(f"value for {fdef.name} is not a date (YYYY-MM-DD): {raw!r}") from None


def _to_datetime(fdef: FieldDef, raw: str) -> Value:
    text = raw.strip()
    return parse_datetime(text, fdef.name).isoformat() if text else None


CONVERTERS: dict[FieldType, Callable[[FieldDef, str], Value]] = {
    FieldType.STRING: _to_string,
    FieldType.PHONE: _to_string,
    FieldType.URL: _to_string,
    FieldType.TEXT: _to_text,
    FieldType.EMAIL: to_email,
    FieldType.INTEGER: _to_integer,
    FieldType.SCORE: _to_integer,
    FieldType.PERCENT: _to_integer,
    FieldType.FLOAT: _to_number,
    FieldType.CURRENCY: _to_number,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
}


def parse_datetime(text: str, what: str) -> datetime:
    """An ISO-8601 date-time; one without an offset is taken as UTC."""
    candidate = _ISO_TZ_FIX.sub(r"\1:\2", text.replace(" ", "T", 1))
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        raise ValueError(f"value for {what} is not a date-time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def render(fdef: FieldDef, value: Value) -> str:
    """A stored value as Marketo writes it on the wire (booleans as 1/0; docs/compatibility.md,
    "Field types")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and fdef.type is not FieldType.FLOAT:
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)
