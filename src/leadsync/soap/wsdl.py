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
import re
from importlib import resources

from lxml import etree

from leadsync.mktows.ns import WSDL

__all__ = ["render_wsdl", "wsdl_operations"]

_PLACEHOLDER = "{{SOAP_ADDRESS}}"
_TEMPLATE_NAME = "mktows.wsdl"

# Characters XML 1.0 cannot carry at all, plus tab, CR and LF: an attribute value keeps
# those only as character references, and a URL has no business containing them anyway.
_NOT_IN_ADDRESS = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")

_ATTRIBUTE_ESCAPES = (
    ("&", "&amp;"),  # first, so the entities added below are not escaped twice
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("'", "&apos;"),
)


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


def _escape_attribute(value: str) -> str:
    for raw, entity in _ATTRIBUTE_ESCAPES:
        value = value.replace(raw, entity)
    return value


def render_wsdl(address: str) -> bytes:
    """The WSDL as UTF-8 bytes, with ``address`` as the port's ``soap:address`` location.

    ``address`` is escaped for use inside an XML attribute, so a query string with ``&`` or
    a hostile ``Host`` header cannot break the document. Raises ``ValueError`` if it holds a
    control character or anything else XML 1.0 cannot represent.
    """
    bad = _NOT_IN_ADDRESS.search(address)
    if bad is not None:
        raise ValueError(f"SOAP address contains an invalid character: {bad.group()!r}")
    head, tail = _template_halves()
    return b"".join((head, _escape_attribute(address).encode("utf-8"), tail))


@functools.cache
def _operations() -> tuple[str, ...]:
    # The template is our own package data, not client input, but it is parsed as strictly
    # as anything else: no DTD, no entities, no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(_template().encode("utf-8"), parser=parser)
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
