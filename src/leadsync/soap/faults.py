"""Errors to SOAP 1.1 Faults in Marketo's exact shape (always with HTTP 500; docs/errors.md)."""

from __future__ import annotations

from leadsync.errors import MarketoError
from leadsync.mktows.escaping import esc_diagnostic
from leadsync.mktows.ns import MKTOWS, SOAP_ENV
from leadsync.soap.writer import XML_DECL


def render_fault(error: MarketoError) -> bytes:
    faultcode = "SOAP-ENV:Server" if error.server_side else "SOAP-ENV:Client"
    return (
        f'{XML_DECL}<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}">'
        "<SOAP-ENV:Body><SOAP-ENV:Fault>"
        f"<faultcode>{faultcode}</faultcode>"
        f"<faultstring>{esc_diagnostic(error.faultstring)}</faultstring>"
        f'<detail><ns1:serviceException xmlns:ns1="{MKTOWS}">'
        "<name>mktServiceException</name>"
        f"<message>{esc_diagnostic(error.detail_message)}</message>"
        f"<code>{error.code}</code>"
        "</ns1:serviceException></detail>"
        "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()
