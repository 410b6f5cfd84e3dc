"""Namespace URIs, in one place. Elements are matched on these, never on prefixes."""

from __future__ import annotations

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MKTOWS = "http://www.marketo.com/mktows/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


def qn(namespace: str, local: str) -> str:
    """Clark notation, as lxml writes tags: ``{namespace}local``."""
    return f"{{{namespace}}}{local}"


ENVELOPE = qn(SOAP_ENV, "Envelope")
HEADER = qn(SOAP_ENV, "Header")
BODY = qn(SOAP_ENV, "Body")
XSI_NIL = qn(XSI, "nil")
XSI_TYPE = qn(XSI, "type")
