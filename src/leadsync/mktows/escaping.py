"""Character data for XML 1.0, on both sides of the wire.

Every character XML 1.0 can carry is written so that a conforming parser hands back exactly
that character. Tab and newline need nothing in element content (only attribute values are
normalised, and ``esc_attribute`` writes them as references for attribute values). A
carriage return does: a parser folds a raw ``\\r`` (and ``\\r\\n``) into ``\\n``, so
it is written ``&#13;``.

Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE, U+FFFF)
are refused with ``NotXmlCharacter``, never dropped: each side decides what a refusal means
(the client fails that record; the server, docs/compatibility.md "Characters").
"""

from __future__ import annotations

import re

# Characters XML 1.0 cannot carry even as a character reference.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Anything that needs escaping or refusing; most values hold none of it, and one scan in C
# answers that for a page of a thousand leads.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class NotXmlCharacter(ValueError):
    """A value holds a character XML 1.0 cannot carry."""

    def __init__(self, char: str) -> None:
        self.char = char
        super().__init__(f"contains U+{ord(char):04X}, which XML 1.0 cannot carry")


def esc(text: str) -> str:
    """``text`` as element content. Raises NotXmlCharacter for a character XML 1.0 cannot
    carry."""
    if _SPECIAL.search(text) is None:
        return text
    bad = _NOT_XML.search(text)
    if bad is not None:
        raise NotXmlCharacter(bad.group())
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


_ATTRIBUTE_SPECIAL = re.compile("[&<>\"'\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&apos;",
    # A parser turns each of these into a space in an attribute value; a reference keeps it.
    "\t": "&#9;",
    "\n": "&#10;",
    "\r": "&#13;",
}


def esc_attribute(text: str) -> str:
    """``text`` as an attribute value, in either quotes. Raises NotXmlCharacter for a
    character XML 1.0 cannot carry."""
    if _ATTRIBUTE_SPECIAL.search(text) is None:
        return text
    bad = _NOT_XML.search(text)
    if bad is not None:
        raise NotXmlCharacter(bad.group())
    return _ATTRIBUTE_SPECIAL.sub(lambda m: _ATTRIBUTE_ESCAPES[m.group()], text)


def needs_escaping(text: str) -> bool:
    """Whether ``esc`` would change or refuse ``text``."""
    return _SPECIAL.search(text) is not None


def first_not_xml(text: str) -> str | None:
    """The first character of ``text`` XML 1.0 cannot carry, or None when it has none."""
    # Every such character is a control, a surrogate or a noncharacter, none of them
    # printable; the test is several times cheaper than the search, and most text passes it.
    if text.isprintable():
        return None
    bad = _NOT_XML.search(text)
    return None if bad is None else bad.group()


def esc_diagnostic(text: str) -> str:
    """``text`` as element content, each character XML 1.0 cannot carry shown as U+FFFD.
    For messages about a request (which may quote it), never for data."""
    try:
        return esc(text)
    except NotXmlCharacter:
        return esc(_NOT_XML.sub("\ufffd", text))
