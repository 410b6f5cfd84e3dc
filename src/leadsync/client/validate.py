"""Checking rows against the server's field list (describeMObject), before anything is sent.

The checks mirror what Marketo documents for each type (docs/compatibility.md, "Field
types"); anything unsure is left for the server to judge, so a check here never rejects a
value the server would take.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from leadsync.client.models import FieldInfo, Lead

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_BOOLEANS = frozenset({"true", "false", "1", "0", "yes", "no", "y", "n", "t", "f"})
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
_STRING_MAX = 255
_TZ_NO_COLON = re.compile(r"([+-]\d\d)(\d\d)$")


class FieldValidator:
    def __init__(self, fields: Iterable[FieldInfo]) -> None:
        self.fields = {f.name.casefold(): f for f in fields}

    def unknown(self, names: Sequence[str]) -> list[str]:
        """The names (in order) that are not lead fields."""
        return [n for n in names if n and n.casefold() not in self.fields]

    def check(self, lead: Lead) -> str | None:
        """The first problem with the lead's values, or None."""
        if lead.email is not None and not EMAIL_PATTERN.match(lead.email):
            return f"Email is not an email address: {lead.email!r}"
        for name, value in lead.attributes.items():
            info = self.fields.get(name.casefold())
            if info is None:
                return f"unknown field {name}"
            if not isinstance(value, str):
                continue
            problem = check_value(info, value)
            if problem is not None:
                return problem
        return None


def length_only(info: FieldInfo | None) -> int:
    """The length limit when that is the field's only check (text-like, writable), else 0."""
    if info is None or info.is_readonly:
        return 0
    if info.data_type.casefold() in ("string", "phone", "url"):
        return info.size or _STRING_MAX
    return 0


def check_value(info: FieldInfo, raw: str) -> str | None:
    if info.is_readonly:
        return f"{info.name} is read-only"
    text = raw.strip()
    if not text:
        return None  # an empty value clears the field
    kind = info.data_type.casefold()
    name = info.name
    if kind in ("integer", "int", "score"):
        try:
            number = int(text)
        except ValueError:
            return f"value for {name} is not an integer: {raw!r}"
        if not _INT_MIN <= number <= _INT_MAX:
            return f"value for {name} is out of the integer range: {raw!r}"
    elif kind in ("float", "currency", "double", "decimal"):
        try:
            number_f = float(text)
        except ValueError:
            return f"value for {name} is not a number: {raw!r}"
        if number_f != number_f or number_f in (float("inf"), float("-inf")):
            return f"value for {name} is not a finite number: {raw!r}"
    elif kind == "boolean":
        if text.lower() not in _BOOLEANS:
            return f"value for {name} is not a boolean: {raw!r}"
    elif kind == "date":
        try:
            date.fromisoformat(text[:10] if "T" in text else text)
        except ValueError:
            return f"value for {name} is not a date (YYYY-MM-DD): {raw!r}"
    elif kind == "datetime":
        candidate = _TZ_NO_COLON.sub(r"\1:\2", text.replace(" ", "T", 1))
        try:
            datetime.fromisoformat(candidate.replace("Z", "+00:00"))
        except ValueError:
            return f"value for {name} is not a date-time: {raw!r}"
    elif kind == "email":
        if not EMAIL_PATTERN.match(text):
            return f"value for {name} is not an email address: {raw!r}"
    elif kind in ("string", "phone", "url"):
        limit = info.size or _STRING_MAX
        if len(raw) > limit:
            return f"value for {name} is longer than {limit} characters"
    return None
