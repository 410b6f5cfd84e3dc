"""Fuzzing the SOAP endpoint's request parsing, in process through the ASGI app.

Whatever bytes arrive, the answer is a well-formed success, a well-formed fault with a code
of the catalogue (never an unexpected 20011 with an error id), or a documented HTTP status.
``make test`` runs a bounded number of examples; ``make fuzz`` runs many more
(``LEADSYNC_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from inprocess import AppServer, serving_app
from leadsync.errors import CATALOGUE
from leadsync.soap.wsdl import wsdl_operations
from support import MKTOWS, SOAP_ENV, envelope

EXAMPLES = int(os.environ.get("LEADSYNC_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
#: HTTP statuses a SOAP POST may get without a SOAP answer (docs/deployment.md).
DOCUMENTED = {400, 404, 405, 408, 413, 431, 503}

NAMES = [
    "leadKey",
    "keyType",
    "keyValue",
    "leadRecord",
    "leadRecordList",
    "Email",
    "Id",
    "ForeignSysPersonId",
    "leadAttributeList",
    "attribute",
    "attrName",
    "attrType",
    "attrValue",
    "batchSize",
    "streamPosition",
    "returnLead",
    "dedupEnabled",
    "leadSelector",
    "listOperation",
    "listKey",
    "listMemberList",
    "activityFilter",
    "startPosition",
    "oldestCreatedAt",
    "includeTypes",
    "source",
    "mergeStatus",
]
WORDS = st.sampled_from(
    ["EMAIL", "IDNUM", "true", "false", "1", "-1", "0", "x@y.com", "2026-01-01T00:00:00Z"]
)
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=40,
).map(lambda s: "".join(c for c in s if c in "\t\n\r" or ord(c) >= 0x20))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _elements(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(WORDS, XML_TEXT).map(_escape)
    if depth == 0:
        return leaf
    child = st.builds(
        lambda name, nil, inner: (
            f'<{name} xsi:nil="true"/>' if nil else f"<{name}>{inner}</{name}>"
        ),
        st.sampled_from(NAMES),
        st.booleans(),
        st.lists(_elements(depth - 1), max_size=4).map("".join),
    )
    return st.one_of(leaf, child)


PARAMS = st.lists(_elements(3), max_size=5).map("".join)
OPERATIONS = st.sampled_from([*wsdl_operations(), "noSuchOperation"])


@st.composite
def signed_requests(draw: st.DrawFn) -> bytes:
    operation = draw(OPERATIONS)
    body = envelope(operation, draw(PARAMS)).encode()
    body = body.replace(
        b"<SOAP-ENV:Envelope ",
        b'<SOAP-ENV:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ',
    )
    if draw(st.booleans()):
        return body
    # Damage it: cut it short, or change some bytes.
    cut = draw(st.integers(0, len(body)))
    if draw(st.booleans()):
        return body[:cut]
    noise = draw(st.binary(min_size=1, max_size=8))
    return body[:cut] + noise + body[cut + len(noise) :]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with serving_app(folder, max_body_bytes=64 * 1024) as served:
        yield served


def _check(app: AppServer, data: bytes) -> None:
    response = app.post(data)
    event(f"HTTP {response.status_code}")
    if response.status_code in DOCUMENTED:
        return
    assert response.status_code in (200, 500), response.status_code
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    assert len(body) == 1
    answer = body[0]
    if response.status_code == 200:
        assert answer.tag.startswith(f"{{{MKTOWS}}}success"), answer.tag
        return
    assert answer.tag == f"{{{SOAP_ENV}}}Fault"
    code = int(answer.findtext(f"detail/{{{MKTOWS}}}serviceException/code") or "0")
    assert code in CATALOGUE, code
    event(f"fault {code}")
    message = answer.findtext(f"detail/{{{MKTOWS}}}serviceException/message") or ""
    assert "error id" not in message, message


@FUZZ
@given(data=st.binary(max_size=2048))
def test_any_bytes_get_a_well_formed_answer(app: AppServer, data: bytes) -> None:
    _check(app, data)


@FUZZ
@given(data=signed_requests())
def test_signed_requests_get_a_well_formed_answer(app: AppServer, data: bytes) -> None:
    _check(app, data)
