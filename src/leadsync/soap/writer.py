"""Writing responses. Envelopes are assembled as text: responses are regular and large
(hundreds of statuses), and string building is several times faster than a tree here.
Values are escaped by the kit's ``esc``, which refuses what XML 1.0 cannot carry
(docs/compatibility.md, "Characters")."""

from __future__ import annotations

from leadsync.mktows.escaping import esc
from leadsync.mktows.ns import MKTOWS, SOAP_ENV, XSI

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_ENVELOPE_OPEN = (
    f'{XML_DECL}<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:xsi="{XSI}"'
    f' xmlns:ns1="{MKTOWS}"><SOAP-ENV:Body>'
)
_ENVELOPE_CLOSE = "</SOAP-ENV:Body></SOAP-ENV:Envelope>"


def element(name: str, value: str | None) -> str:
    """``<name>value</name>``, or ``<name xsi:nil="true" />`` when value is None."""
    if value is None:
        return f'<{name} xsi:nil="true" />'
    return f"<{name}>{esc(value)}</{name}>"


def envelope(body: str) -> bytes:
    return (_ENVELOPE_OPEN + body + _ENVELOPE_CLOSE).encode("utf-8")


def success(operation: str, inner: str) -> bytes:
    """``<ns1:successOperation>inner</ns1:successOperation>`` in an envelope."""
    wrapper = "success" + operation[:1].upper() + operation[1:]
    return envelope(f"<ns1:{wrapper}>{inner}</ns1:{wrapper}>")
