"""Exact text: a value holding line ends, tabs and any other character XML 1.0 carries comes
back byte for byte through every read, for zeep, suds and PHP's SoapClient, on each backend
(docs/compatibility.md, "Characters")."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import zeep
from suds.client import Client as SudsClient
from suds.plugin import MessagePlugin

from leadsync.mktows.signing import sign
from support import Server

MKTOWS = "http://www.marketo.com/mktows/"
PHP_SCRIPT = Path(__file__).parent / "php" / "exact_text.php"
_n = itertools.count()

# A spread of every range XML 1.0 carries: ASCII, C1 controls, the rest of the BMP up to
# the surrogates, the private use area up to U+FFFD, and the astral planes.
SPREAD = "".join(
    itertools.chain(
        (chr(c) for c in range(0x21, 0x7F)),
        (chr(c) for c in range(0x7F, 0xA1)),
        (chr(c) for c in range(0xA1, 0xD800, 29)),
        (chr(c) for c in range(0xE000, 0xFFFE, 29)),
        "\ufffd",
        (chr(c) for c in range(0x10000, 0x110000, 4099)),
        "\U0010ffff",
    )
)

#: Values every client keeps.
VALUES = {
    "Address": "line1\r\nline2\rline3\nline4\r\n\r\n\tindented\t" + SPREAD,
    "Company": "Acme\r& <Sons> \"Ltd\" 'x' ]]> &#13; &x",
    "FirstName": "two\t\ttabs\u00a0and\u2028separators\u0085end",
    "LastName": "Ünïcödé 😀 \U0010fffd\ufffd",
    "City": "\x7f\x80\x9f",
}
#: Values every client but suds keeps: suds trims blanks at either end of the text it
#: reads, and sends text that looks like an entity reference (``&amp;``) without escaping it.
NOT_FOR_SUDS = {
    "Title": "\r\n padded \t",
    "Department": "\tleading",
    "Industry": "trailing\r",
    "Rating": "literal &amp; and &lt; references",
}


def unique(client: str) -> str:
    return f"{client}-text-{next(_n)}-{os.getpid()}@example.com"


def placeholders(values: dict[str, str]) -> dict[str, str]:
    return dict.fromkeys(values, "x")


def timestamp() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


# -- zeep --------------------------------------------------------------------------------
@pytest.fixture
def zeep_client(server: Server) -> Iterator[Any]:
    client = zeep.Client(server.endpoint + "?WSDL")  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.transport.session.close()


def zeep_call(client: Any, server: Server, operation: str, **params: Any) -> Any:
    ts = timestamp()
    header = client.get_element(f"{{{MKTOWS}}}AuthenticationHeader")(
        mktowsUserId=server.user_id,
        requestSignature=sign(server.key, ts, server.user_id),
        requestTimestamp=ts,
    )
    return getattr(client.service, operation)(_soapheaders=[header], **params)


def test_zeep_reads_back_exactly_what_it_wrote(zeep_client: Any, server: Server) -> None:
    client = zeep_client
    email = unique("zeep")
    values = {**VALUES, **NOT_FOR_SUDS}
    for version in (placeholders(values), values):
        record = {
            "Email": email,
            "leadAttributeList": {
                "attribute": [{"attrName": n, "attrValue": v} for n, v in version.items()]
            },
        }
        result = zeep_call(
            client, server, "syncMultipleLeads", leadRecordList={"leadRecord": [record]}
        )
        # zeep unwraps the single-child successSyncMultipleLeads/result down to syncStatusList.
        assert result.syncStatus[0].status in ("CREATED", "UPDATED")
    key = {"keyType": "EMAIL", "keyValue": email}

    def attributes(lead: Any) -> dict[str, str]:
        return {a.attrName: a.attrValue for a in lead.leadAttributeList.attribute}

    got = zeep_call(client, server, "getLead", leadKey=key)
    assert attributes(got.leadRecordList.leadRecord[0]) == values
    selector = client.get_type(f"{{{MKTOWS}}}LeadKeySelector")(
        keyType="EMAIL", keyValues={"stringItem": [email]}
    )
    page = zeep_call(client, server, "getMultipleLeads", leadSelector=selector)
    assert attributes(page.leadRecordList.leadRecord[0]) == values
    history = zeep_call(client, server, "getLeadActivity", leadKey=key).activityRecordList
    new_values = [
        a.attrValue
        for record in history.activityRecord
        if record.activityType == "Change Data Value"
        for a in record.activityAttributes.attribute
        if a.attrName == "New Value"
    ]
    assert sorted(new_values) == sorted(values.values())


# -- suds --------------------------------------------------------------------------------
class KeepCarriageReturns(MessagePlugin):  # type: ignore[misc]
    """suds writes a carriage return raw, which any XML parser reads as a newline; this
    writes it as ``&#13;`` (docs/compatibility.md, "Characters"). suds writes no carriage
    return of its own, so every one in the envelope is a value's."""

    def sending(self, context: Any) -> None:
        context.envelope = context.envelope.replace(b"\r", b"&#13;")


def suds_call(client: Any, server: Server, operation: str, **params: Any) -> Any:
    ts = timestamp()
    header = client.factory.create("AuthenticationHeader")
    header.mktowsUserId = server.user_id
    header.requestSignature = sign(server.key, ts, server.user_id)
    header.requestTimestamp = ts
    client.set_options(soapheaders=header)
    return getattr(client.service, operation)(**params)


def test_suds_reads_back_exactly_what_it_wrote(server: Server) -> None:
    client = SudsClient(server.endpoint + "?WSDL", cache=None, plugins=[KeepCarriageReturns()])
    email = unique("suds")
    for version in (placeholders(VALUES), VALUES):
        record = client.factory.create("LeadRecord")
        record.Email = email
        attributes = client.factory.create("ArrayOfAttribute")
        attributes.attribute = []
        for name, value in version.items():
            attr = client.factory.create("Attribute")
            attr.attrName, attr.attrValue = name, value
            attributes.attribute.append(attr)
        record.leadAttributeList = attributes
        records = client.factory.create("ArrayOfLeadRecord")
        records.leadRecord = [record]
        result = suds_call(client, server, "syncMultipleLeads", leadRecordList=records)
        assert result.syncStatusList.syncStatus[0].status in ("CREATED", "UPDATED")
    key = client.factory.create("LeadKey")
    key.keyType, key.keyValue = "EMAIL", email

    def values(lead: Any) -> dict[str, str]:
        return {str(a.attrName): str(a.attrValue) for a in lead.leadAttributeList.attribute}

    got = suds_call(client, server, "getLead", leadKey=key)
    assert values(got.leadRecordList.leadRecord[0]) == VALUES
    selector = client.factory.create("LeadKeySelector")
    selector.keyType = "EMAIL"
    selector.keyValues = client.factory.create("ArrayOfString")
    selector.keyValues.stringItem = [email]
    page = suds_call(client, server, "getMultipleLeads", leadSelector=selector)
    assert values(page.leadRecordList.leadRecord[0]) == VALUES
    history = suds_call(client, server, "getLeadActivity", leadKey=key).activityRecordList
    new_values = [
        str(a.attrValue)
        for record in history.activityRecord
        if record.activityType == "Change Data Value"
        for a in record.activityAttributes.attribute
        if a.attrName == "New Value"
    ]
    assert sorted(new_values) == sorted(VALUES.values())


# -- PHP ---------------------------------------------------------------------------------
def test_php_soapclient_reads_back_exactly_what_it_wrote(php: str, server: Server) -> None:
    values = {**VALUES, **NOT_FOR_SUDS}
    done = subprocess.run(
        [php, "-d", "soap.wsdl_cache_enabled=0", str(PHP_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "LEADSYNC_ENDPOINT": server.endpoint,
            "LEADSYNC_USER_ID": server.user_id,
            "LEADSYNC_ENCRYPTION_KEY": server.key,
            "LEADSYNC_EMAIL": unique("php"),
            "LEADSYNC_VALUES": json.dumps(values),
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert out["statuses"] == ["CREATED", "UPDATED"]
    expected = {name: value.encode("utf-8").hex() for name, value in values.items()}
    assert out["getLead"] == expected
    assert out["getMultipleLeads"] == expected
    assert sorted(out["newValues"]) == sorted(expected.values())
