"""The WSDL document served at ``<endpoint>?WSDL``.

Legacy clients (PHP SoapClient, wsimport, zeep, suds, Savon) generate their stubs from the
WSDL, so ``mktows.wsdl`` keeps every name and shape of Marketo's 2_2 service description.
The only thing that varies between deployments is the ``soap:address``: clients that honour
it must be sent back to this server rather than to a fixed host, so the server fills it in
when it serves the document.

The template is read from package data once. Rendering is a plain text substitution of one
placeholder, which keeps the document byte-for-byte as written (comments, documentation,
attribute order) and costs nothing per request.
"""

from __future__ import annotations

import functools
from importlib import resources

from leadsync.mktows import xml
from leadsync.mktows.escaping import NotXmlCharacter, esc_attribute
from leadsync.mktows.ns import WSDL

__all__ = ["render_wsdl", "wsdl_operations"]

_PLACEHOLDER = "{{SOAP_ADDRESS}}"
_TEMPLATE_NAME = "mktows.wsdl"

# A URL has no business containing a tab or a line end; the kit's escaping refuses anything
# else XML 1.0 cannot carry.
_NOT_IN_ADDRESS = ("\t", "\n", "\r")


@functools.cache
def _template() -> str:
    text = resources.files("leadsync.soap").joinpath(_TEMPLATE_NAME).read_text(encoding="utf-8")
    # A second occurrence (say, in a comment) would also be replaced, and an address
    # containing "--" would then end that comment early.
    if text.count(_PLACEHOLDER) != 1:
        raise RuntimeError(f"{_TEMPLATE_NAME} must contain {_PLACEHOLDER} exactly once")
    return text


@functools.cache
def _template_halves() -> tuple[bytes, bytes]:
    head, _, tail = _template().partition(_PLACEHOLDER)
    return head.encode("utf-8"), tail.encode("utf-8")


def render_wsdl(address: str) -> bytes:
    """The WSDL as UTF-8 bytes, with ``address`` as the port's ``soap:address`` location.

    ``address`` is escaped for use inside an XML attribute, so a query string with ``&`` or
    a hostile ``Host`` header cannot break the document. Raises ``ValueError`` if it holds a
    control character or anything else XML 1.0 cannot represent.
    """
    try:
        bad = next((c for c in address if c in _NOT_IN_ADDRESS), None)
        if bad is not None:
            raise NotXmlCharacter(bad)
        escaped = esc_attribute(address)
    except NotXmlCharacter as exc:
        raise ValueError(f"SOAP address contains an invalid character: {exc.char!r}") from None
    head, tail = _template_halves()
    return b"".join((head, escaped.encode("utf-8"), tail))


@functools.cache
def _operations() -> tuple[str, ...]:
    # The template is our own package data, not client input, but it goes through the one
    # hardened parser like anything else: no DTD, no entities, no network.
    root = xml.parse(_template().encode("utf-8"))
    # The portType, not the binding, is what clients turn into methods.
    names = root.xpath(
        "/wsdl:definitions/wsdl:portType/wsdl:operation/@name", namespaces={"wsdl": WSDL}
    )
    if not isinstance(names, list):  # an attribute path always yields a list
        raise TypeError(f"unexpected XPath result: {names!r}")
    return tuple(str(name) for name in names)


def wsdl_operations() -> list[str]:
    """The names of the operations the WSDL declares, in document order."""
    return list(_operations())
