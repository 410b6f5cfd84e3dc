"""Bad input gets a fault in Marketo's exact shape (docs/errors.md), HTTP 500, nothing written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from inprocess import serving_app
from support import (
    MKTOWS,
    SOAP_ENV,
    Server,
    count_leads,
    envelope,
    fault,
    lead_record,
    statuses,
    stored_leads,
    sync_params,
)


def test_fault_has_the_exact_shape(server: Server) -> None:
    response = server.call("syncMultipleLeads", "<dedupEnabled>true</dedupEnabled>")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(response.content)
    assert root.nsmap == {"SOAP-ENV": SOAP_ENV}  # xsi is not declared on fault envelopes
    [body] = root
    [fault_el] = body
    assert [child.tag for child in fault_el] == ["faultcode", "faultstring", "detail"]
    [exc] = fault_el.find("detail")  # type: ignore[union-attr]
    assert exc.tag == f"{{{MKTOWS}}}serviceException"
    assert exc.prefix == "ns1"
    assert [child.tag for child in exc] == ["name", "message", "code"]
    got = fault(response)
    assert got == type(got)(
        "SOAP-ENV:Client",
        "20104 - Lead Detail Required",
        20104,
        got.message,
        "mktServiceException",
    )
    assert got.message.endswith(" (20104)")


@pytest.mark.parametrize(
    "body",
    [
        b"<not-closed>",
        b"",
        b"plain text",
        b"<?xml version='1.0'?><a><b></a>",
    ],
)
def test_malformed_xml_is_20012(server: Server, body: bytes) -> None:
    assert fault(server.post(body)).code == 20012


def test_not_a_soap_envelope_is_20012(server: Server) -> None:
    assert fault(server.post(b"<Envelope><Body/></Envelope>")).code == 20012


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:ns1="http://www.marketo.com/mktows/"><SOAP-ENV:Body><ns1:paramsSyncMultipleLeads>
<leadRecordList><leadRecord><Email>&xxe;</Email></leadRecord></leadRecordList>
</ns1:paramsSyncMultipleLeads></SOAP-ENV:Body></SOAP-ENV:Envelope>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
<x>&lol3;</x></SOAP-ENV:Body></SOAP-ENV:Envelope>"""


AFTER_COMMENTS = XXE.replace(b"\n<!DOCTYPE", b"<?pi x?><!-- a <!DOCTYPE> note -->\n<!DOCTYPE")


@pytest.mark.parametrize(
    "body", [XXE, LAUGHS, XXE.decode().encode("utf-16"), AFTER_COMMENTS, b"\xef\xbb\xbf" + XXE]
)
def test_dtds_and_entities_are_refused(fresh_server: Server, body: bytes) -> None:
    got = fault(fresh_server.post(body))
    assert got.code == 20012
    assert "root:" not in got.message
    assert count_leads(fresh_server.database_url) == 0


def test_an_entity_declared_inside_the_body_is_malformed(fresh_server: Server) -> None:
    body = envelope("syncMultipleLeads", '<!ENTITY x "y">' + sync_params([lead_record("e@x.com")]))
    got = fault(fresh_server.post(body))
    assert got.code == 20012
    assert count_leads(fresh_server.database_url) == 0


def test_markup_inside_cdata_is_text(fresh_server: Server) -> None:
    # Only the prolog can hold a DTD; inside a value, a CDATA section may say anything.
    title = '<!DOCTYPE x [<!ENTITY y "z">]>'
    record = lead_record("cdata@x.com", {"Title": "@"}).replace(
        "<attrValue>@</attrValue>", f"<attrValue><![CDATA[{title}]]></attrValue>"
    )
    response = fresh_server.call("syncMultipleLeads", sync_params([record]))
    [status] = statuses(response)
    assert status.status == "CREATED"
    lead = stored_leads(fresh_server.database_url, [status.lead_id])[status.lead_id]
    assert lead.values["Title"] == title


def test_unknown_operation_is_20019(server: Server) -> None:
    got = fault(server.call("doSomethingElse", "<x>1</x>"))
    assert got.code == 20019
    assert "doSomethingElse" in got.message


def test_body_element_outside_marketo_namespace_is_20019(server: Server) -> None:
    body = envelope("syncMultipleLeads", "").replace(
        "<ns1:paramsSyncMultipleLeads></ns1:paramsSyncMultipleLeads>",
        '<x:paramsSyncMultipleLeads xmlns:x="urn:other"/>',
    )
    assert fault(server.post(body)).code == 20019


@pytest.mark.parametrize(
    "params",
    ["", "<dedupEnabled>true</dedupEnabled>", "<leadRecordList/>"],
)
def test_missing_or_empty_lead_record_list_is_20104(server: Server, params: str) -> None:
    assert fault(server.call("syncMultipleLeads", params)).code == 20104


def test_bad_dedup_value_is_20110(server: Server) -> None:
    got = fault(server.call("syncMultipleLeads", sync_params([lead_record("d@x.com")], "maybe")))
    assert got.code == 20110


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[Server]:
    with serving_app(tmp_path, max_records_per_call=3, max_body_bytes=4096) as srv:
        yield srv


def test_more_records_than_the_cap_is_20110_and_writes_nothing(small_server: Server) -> None:
    records = [lead_record(f"cap{i}@x.com") for i in range(4)]
    got = fault(small_server.call("syncMultipleLeads", sync_params(records)))
    assert got.code == 20110
    assert got.faultstring == "20110 - Input error"
    assert count_leads(small_server.database_url) == 0


def test_body_over_the_limit_is_refused_before_parsing(small_server: Server) -> None:
    # Not even well-formed: it must be refused on size alone.
    got = fault(small_server.post(b"<" + b"x" * 5000))
    assert got.code == 20012
    assert "larger than 4096 bytes" in got.message


def test_body_over_the_limit_without_content_length_is_refused(small_server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"<" + b"y" * 1000

    response = small_server.http.post(
        small_server.endpoint, content=chunks(), headers={"Content-Type": "text/xml"}
    )
    assert fault(response).code == 20012


def test_an_unexpected_error_is_20011_with_an_id_in_the_log(tmp_path: Path) -> None:
    with serving_app(tmp_path) as srv:
        path = srv.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE leads")
        response = srv.call("syncMultipleLeads", sync_params([lead_record("boom@x.com")]))
        got = fault(response)
        assert got.code == 20011
        assert got.faultcode == "SOAP-ENV:Server"
        assert "Traceback" not in response.text
        error_id = got.message.split("error id ")[1].split(" ")[0]
        assert f"error id={error_id}" in srv.log()


def test_get_without_wsdl_is_not_a_soap_call(server: Server) -> None:
    assert server.http.get(server.endpoint).status_code == 405


def test_unknown_version_is_404(server: Server) -> None:
    assert (
        server.http.post(server.base_url + "/soap/mktows/9_9", content=b"<x/>").status_code == 404
    )
