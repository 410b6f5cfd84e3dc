"""Field typing rules that every synced value passes through."""

from __future__ import annotations

import re

import pytest

from leadsync.model import FieldDef, FieldType
from leadsync.operations.fields import convert

EMAIL = FieldDef("Email", FieldType.EMAIL)


@pytest.mark.parametrize(
    "raw",
    [
        "a@b",
        " pat@example.com ",
        "ü@d.example",
        "a.b+c@d-e.f",
        "x@y@",
        "@y",
        "x@",
        "a b@c",
        "a@b\u00a0c",
        "a@b\u2003",
        "a\t@b",
        "a@@b",
        "@",
        "a@b\nc",
        "a\x85b@c",
    ],
)
def test_an_email_is_one_at_with_text_around_and_no_whitespace(raw: str) -> None:
    text = raw.strip()
    valid = re.fullmatch(r"[^@\s]+@[^@\s]+", text) is not None
    if valid:
        assert convert(EMAIL, raw) == text
    else:
        with pytest.raises(ValueError, match="not an email address"):
            convert(EMAIL, raw)


def test_a_blank_email_clears_and_a_long_one_fails() -> None:
    assert convert(EMAIL, "  ") is None
    with pytest.raises(ValueError, match="not an email address"):
        convert(EMAIL, "a@" + "b" * 254)
