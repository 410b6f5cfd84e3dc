"""Reading a request envelope: headers, the body's wrapper element, the operation name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from leadsync.errors import RequestNotUnderstood, UnsupportedOperation
from leadsync.mktows import xml
from leadsync.mktows.ns import BODY, ENVELOPE, HEADER, MKTOWS
from leadsync.soap.auth import Credentials


@dataclass(frozen=True, slots=True)
class SoapRequest:
    operation: str
    params: etree._Element
    credentials: Credentials | None
    #: MktowsContextHeader's targetWorkspace, when the client sent one.
    target_workspace: str | None


#: The Header must end (or the Body start, when there is no Header) within this many bytes.
HEAD_LIMIT = 64 * 1024
_STEP = 4096


class Undecided:
    """The document ended before its Body started: small enough to parse whole."""


UNDECIDED = Undecided()


def read_credentials(data: bytes | bytearray) -> Credentials | Undecided | None:
    """The AuthenticationHeader's credentials, read before the Body is parsed.

    Only the document's start is read, until the Header ends or the Body starts, so an
    unauthenticated caller costs no more than reading its bytes: a huge or hostile Body is
    never built into a tree before the signature is checked.
    """
    header = _header_alone(data)
    if header is not None:
        return _credentials(header)
    return _read_credentials_incrementally(data)


# The Envelope's start tag (after an optional BOM, XML declaration and comments), and the
# end tag of an element named Header in any or no prefix.
_ROOT_NAME = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:(?:<\?.*?\?>|<!--.*?-->)\s*)*<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)[\s/>]",
    re.DOTALL,
)
_HEADER_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?Header\s*>")


# A Body start tag and the wrapper element that follows it.
_WRAPPER = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?Body[\s>][^<]*<(?:[A-Za-z_][\w.-]*:)?params([A-Za-z][\w]*)"
)


def operation_hint(data: bytes | bytearray) -> str:
    """The operation a request names, read from its bytes near the Body's start without
    parsing it; only for logging a call refused before its Body is parsed ("-": none seen).
    """
    found = _WRAPPER.search(data, 0, HEAD_LIMIT + _STEP)
    if found is None:
        return "-"
    name = found.group(1).decode("ascii")
    return name[0].lower() + name[1:]


def _header_alone(data: bytes | bytearray) -> etree._Element | None:
    """The Header of the usual envelope, parsed on its own with the one parser: the bytes up
    to the Header's end tag, closed with the Envelope's. Anything unusual (no such end tag
    within the limit, a Body before it, text the cut makes malformed) is None, and the
    incremental reader decides; so this only makes the common case cheap."""
    root_name = _ROOT_NAME.match(data, 0, HEAD_LIMIT)
    end = _HEADER_END.search(data, 0, HEAD_LIMIT)
    if root_name is None or end is None:
        return None
    try:
        root = xml.parse(bytes(data[: end.end()]) + b"</" + root_name.group(1) + b">")
    except xml.XmlRefused:
        return None
    if root.tag != ENVELOPE:
        return None
    parts = list(xml.children(root))
    if not parts or parts[-1].tag != HEADER:
        return None
    if any(part.tag in (HEADER, BODY) for part in parts[:-1]):
        return None
    return parts[-1]


def _read_credentials_incrementally(data: bytes | bytearray) -> Credentials | Undecided | None:
    """``read_credentials`` for any document: fed to an incremental parser a few KiB at a
    time, only until the Header ends or the Body starts."""
    parser = xml.pull_parser(("start", "end"))
    root: etree._Element | None = None
    try:
        for offset in range(0, min(len(data), HEAD_LIMIT), _STEP):
            parser.feed(bytes(data[offset : offset + _STEP]))
            for event, el in parser.read_events():
                if not isinstance(el, etree._Element):
                    continue
                if root is None:
                    xml.refuse_dtd(el)
                    if el.tag != ENVELOPE:
                        raise RequestNotUnderstood(
                            "Request Not Understood: not a SOAP 1.1 Envelope"
                        )
                    root = el
                elif el.getparent() is not root:
                    continue
                elif event == "end" and el.tag == HEADER:
                    return _credentials(el)
                elif event == "start" and el.tag == BODY:
                    return None
    except etree.XMLSyntaxError as exc:
        raise RequestNotUnderstood(f"Request Not Understood: malformed XML: {exc}") from None
    except xml.XmlRefused as exc:
        raise RequestNotUnderstood(f"Request Not Understood: {exc}") from None
    if len(data) > HEAD_LIMIT:
        raise RequestNotUnderstood(
            f"Request Not Understood: the SOAP Body must start within the first {HEAD_LIMIT} bytes"
        )
    return UNDECIDED


def refuse_costly(data: bytes | bytearray, max_elements: int, max_attributes: int) -> None:
    """A 20012 for a document whose tree would cost more than the bounds allow, before it is
    built: every element needs a ``<`` and every attribute a ``=``, so counting those bytes
    bounds both from above, at the speed of a byte search (and not at all for a document too
    short to exceed them). A tree costs some 30 to 40 times its bytes in elements and
    attributes: the counts, not the body's size, bound that."""
    if len(data) > max_elements and data.count(b"<") > max_elements:
        raise RequestNotUnderstood(
            f"Request Not Understood: the request has more than {max_elements} elements"
        )
    if len(data) > max_attributes and data.count(b"=") > max_attributes:
        raise RequestNotUnderstood(
            f"Request Not Understood: the request has more than {max_attributes} attributes"
        )


def read_request(data: bytes | bytearray) -> SoapRequest:
    try:
        root = xml.parse(data)
    except xml.XmlRefused as exc:
        raise RequestNotUnderstood(f"Request Not Understood: {exc}") from None
    if root.tag != ENVELOPE:
        raise RequestNotUnderstood("Request Not Understood: not a SOAP 1.1 Envelope")
    header = body = None
    for part in xml.children(root):
        if part.tag == HEADER and header is None:
            header = part
        elif part.tag == BODY and body is None:
            body = part
    if body is None:
        raise RequestNotUnderstood("Request Not Understood: the Envelope has no Body")
    wrapper = next(xml.children(body), None)
    if wrapper is None:
        raise RequestNotUnderstood("Request Not Understood: the Body is empty")
    return SoapRequest(
        operation=_operation_of(wrapper),
        params=wrapper,
        credentials=_credentials(header),
        target_workspace=_workspace(header),
    )


def _operation_of(wrapper: etree._Element) -> str:
    qname = etree.QName(wrapper)
    name = qname.localname
    # Children of a wrapper are unqualified; the wrapper itself is in Marketo's namespace
    # (an unqualified wrapper is tolerated, any other namespace is not Marketo's API).
    if qname.namespace not in (MKTOWS, None) or not name.startswith("params") or len(name) < 7:
        raise UnsupportedOperation(f"Unsupported Operation: {name}")
    return name[6].lower() + name[7:]


def _header_child(header: etree._Element | None, name: str) -> etree._Element | None:
    if header is None:
        return None
    for el in xml.children(header):
        if xml.local(el) == name:
            return el
    return None


def _credentials(header: etree._Element | None) -> Credentials | None:
    auth = _header_child(header, "AuthenticationHeader")
    if auth is None:
        return None
    return Credentials(
        user_id=(xml.text(xml.child(auth, "mktowsUserId")) or "").strip(),
        signature=(xml.text(xml.child(auth, "requestSignature")) or "").strip(),
        timestamp=(xml.text(xml.child(auth, "requestTimestamp")) or "").strip(),
    )


def _workspace(header: etree._Element | None) -> str | None:
    context = _header_child(header, "MktowsContextHeader")
    if context is None:
        return None
    return (xml.text(xml.child(context, "targetWorkspace")) or "").strip()
