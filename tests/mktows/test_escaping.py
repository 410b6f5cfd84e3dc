"""The kit's escaping: every character XML 1.0 can carry comes back from a parser exactly,
and every one it cannot carry is refused by name."""

from __future__ import annotations

import pytest
from lxml import etree

from leadsync.mktows import xml
from leadsync.mktows.escaping import (
    NotXmlCharacter,
    esc,
    esc_attribute,
    esc_diagnostic,
    first_not_xml,
    needs_escaping,
)

# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
NOT_CARRIED = [
    *(chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD)),
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "\ufffe",
    "\uffff",
]


def _round_trip(value: str) -> str | None:
    document = f"<v>{esc(value)}</v>".encode()
    return xml.text(xml.parse(document))


def test_every_bmp_character_xml_carries_round_trips_exactly() -> None:
    carried = "".join(
        chr(c) for c in range(0x20, 0x10000) if not (0xD800 <= c <= 0xDFFF or c >= 0xFFFE)
    )
    assert _round_trip(carried) == carried


@pytest.mark.parametrize(
    "value",
    [
        "line1\r\nline2",
        "a\rb",
        "\r",
        "\r\n\r\n",
        "tab\there",
        "\t\n\t",
        " padded \n",
        "new\nline",
        "<tag> & ]]> \"quoted\" 'single'",
        "😀 astral \U0010fffd",
        "",
    ],
)
def test_line_ends_tabs_and_markup_round_trip(value: str) -> None:
    assert _round_trip(value) == value


def test_carriage_return_is_written_as_a_reference() -> None:
    assert esc("a\r\nb") == "a&#13;\nb"
    assert esc("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert esc("plain") == "plain"


@pytest.mark.parametrize("char", NOT_CARRIED)
def test_characters_xml_cannot_carry_are_refused_by_code_point(char: str) -> None:
    with pytest.raises(NotXmlCharacter, match=f"U\\+{ord(char):04X}") as refused:
        esc(f"a{char}b")
    assert refused.value.char == char
    assert needs_escaping(char)


def test_a_diagnostic_shows_what_xml_cannot_carry_as_a_replacement_character() -> None:
    assert esc_diagnostic("bad \x01 <x>") == "bad \ufffd &lt;x&gt;"


def test_a_parser_would_refuse_what_esc_refuses() -> None:
    # The refusal matches what XML itself allows: the same characters, as references, are
    # not well-formed.
    for char in NOT_CARRIED[:29]:
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(f"<v>&#{ord(char)};</v>".encode())


@pytest.mark.parametrize(
    "value", ["a\tb\nc\r\nd\re", " <&>\"' ", "plain", "😀\u0085\u2028", "", "&amp;"]
)
def test_attribute_values_round_trip_exactly_in_either_quotes(value: str) -> None:
    for quote in "\"'":
        root = xml.parse(f"<v a={quote}{esc_attribute(value)}{quote}/>".encode())
        assert root.get("a") == value


@pytest.mark.parametrize("char", NOT_CARRIED)
def test_attribute_values_refuse_what_xml_cannot_carry(char: str) -> None:
    with pytest.raises(NotXmlCharacter, match=f"U\\+{ord(char):04X}"):
        esc_attribute(f"a{char}")


def _is_xml_char(c: str) -> bool:
    n = ord(c)
    return (
        n in (0x9, 0xA, 0xD)
        or 0x20 <= n <= 0xD7FF
        or 0xE000 <= n <= 0xFFFD
        or 0x10000 <= n <= 0x10FFFF
    )


def test_first_not_xml_names_the_first_character_xml_cannot_carry_over_all_of_unicode() -> None:
    # Every code point against XML 1.0's Char production, then in the middle of some text.
    found = [first_not_xml(chr(n)) for n in range(0x110000)]
    assert found == [None if _is_xml_char(chr(n)) else chr(n) for n in range(0x110000)]
    for c in (*NOT_CARRIED, "\t", "\u2028", "\u00a0", "\U0010ffff"):
        assert first_not_xml("ab" + c + "\x01") == (c if c in NOT_CARRIED else "\x01")
