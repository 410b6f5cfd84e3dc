"""THE parser for untrusted XML, and small helpers for reading what it returns.

Every byte of XML that crosses the wire, requests on the server and answers in the client,
goes through ``parse`` (or a parser from ``pull_parser`` for reading as bytes arrive): DTDs
are refused outright (no entity can be declared, so none is expanded), nothing is fetched
from the network, and huge-tree mode stays off.

Children of Marketo's wrapper elements are unqualified, but clients sometimes qualify them;
helpers here match children by local name and ignore their namespace.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from lxml import etree

from leadsync.mktows.ns import XSI_NIL


class XmlRefused(ValueError):
    """A document that is not plain well-formed XML; each side says so in its own way (the
    server with a 20012 fault, the client with a ProtocolError)."""


_DTD_REFUSED = "DTDs and entities are not allowed"

# The options that make a parser safe for untrusted input; every parser here has them.
_HARDENED = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

# lxml parses without the GIL, but one parser object parses one document at a time: a parser
# per thread lets calls in different worker threads parse at once.
_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(**_HARDENED)  # type: ignore[arg-type]
    return parser


def pull_parser(events: Iterable[str] = ("start", "end")) -> etree.XMLPullParser:
    """A new incremental parser with the same protections as ``parse``: feed it bytes as
    they arrive and read its events. A DOCTYPE reaches it as a syntax error or as a
    ``docinfo.doctype``; callers check ``refuse_dtd(root)`` once the root is known."""
    return etree.XMLPullParser(events=tuple(events), **_HARDENED)  # type: ignore[arg-type]


def parse(data: bytes | bytearray) -> etree._Element:
    """Parse an untrusted document; anything but plain well-formed XML raises XmlRefused."""
    if _declares_dtd(data):
        raise XmlRefused(_DTD_REFUSED)
    try:
        # lxml parses any bytes-like buffer (a request body is read into a bytearray), though
        # an empty one trips it; its stubs name only bytes.
        root = etree.fromstring(data or b"", parser=_parser())  # type: ignore[arg-type]
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(f"malformed XML: {exc}") from None
    refuse_dtd(root)
    return root


def refuse_dtd(root: etree._Element) -> None:
    """Raise XmlRefused when the document ``root`` belongs to carries a DTD."""
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise XmlRefused(_DTD_REFUSED)


def _declares_dtd(data: bytes | bytearray) -> bool:
    """Whether markup other than the XML declaration, processing instructions and comments
    comes before the root element: that is where a DOCTYPE, and with it any entity, must
    be. Refusing it here spares parsing it; the parsed tree is checked again, for documents
    this byte scan cannot read (UTF-16).

    Only the prolog is read: a batch's body is large, and ``<!ENTITY`` inside it is either
    malformed (the parser refuses it) or text in a CDATA section.
    """
    pos = 0
    while (start := data.find(b"<", pos)) >= 0:
        if data.startswith(b"<?", start):
            end = data.find(b"?>", start + 2)
        elif data.startswith(b"<!--", start):
            end = data.find(b"-->", start + 4)
        else:
            return data.startswith(b"<!", start)
        if end < 0:
            return False  # unterminated: the parser says so
        pos = end + 2
    return False


def local(el: etree._Element) -> str:
    """The element's name without its namespace ("" for comments and PIs)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def children(el: etree._Element) -> Iterator[etree._Element]:
    for child in el:
        if isinstance(child.tag, str):
            yield child


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    """The first child named ``name`` (in any or no namespace); None when ``el`` is None."""
    if el is None:
        return None
    for c in el:
        tag = c.tag
        if isinstance(tag, str) and (tag == name or tag.endswith("}" + name)):
            return c
    return None


def child_ci(el: etree._Element, name: str) -> etree._Element | None:
    """Like ``child``, but ``name`` matches without regard to case (``foreignSysPersonId``)."""
    wanted = name.casefold()
    for c in children(el):
        if local(c).casefold() == wanted:
            return c
    return None


def is_nil(el: etree._Element) -> bool:
    return el.get(XSI_NIL, "").strip() in ("true", "1")


def text(el: etree._Element | None) -> str | None:
    """The element's text content, or None when absent or nil."""
    if el is None:
        return None
    if len(el) == 0:
        value = el.text
        if value:
            return value
        return None if is_nil(el) else ""
    if is_nil(el):
        return None
    return "".join(str(part) for part in el.itertext())


def int_text(el: etree._Element | None) -> int | None:
    """The element's text as a whole number; None when absent, nil or blank. Raises
    ValueError when it is not one (each side says so in its own way)."""
    value = text(el)
    if value is None or not (value := value.strip()):
        return None
    return int(value)
