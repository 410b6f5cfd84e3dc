"""The Header is read before the Body, in the usual envelope and in unusual ones alike (in
process, through the app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inprocess import AppServer, serving_app
from support import MKTOWS, SOAP_ENV, auth_header, envelope, fault

KEY = "<leadKey><keyType>IDNUM</keyType><keyValue>1</keyValue></leadKey>"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    folder: Path = tmp_path_factory.mktemp("header-first")
    with serving_app(folder) as served:
        yield served


def _code(app: AppServer, body: str) -> int:
    return fault(app.post(body)).code


def test_the_usual_envelope(app: AppServer) -> None:
    assert _code(app, envelope("getLead", KEY)) == 20103  # signed, parsed, looked up


@pytest.mark.parametrize(
    "extra",
    [
        "<!-- </SOAP-ENV:Header> -->",
        "<note><![CDATA[</SOAP-ENV:Header>]]></note>",
        "<note>a &lt;/SOAP-ENV:Header&gt; b</note>",
    ],
)
def test_an_end_tag_lookalike_inside_the_header(app: AppServer, extra: str) -> None:
    assert _code(app, envelope("getLead", KEY, extra_headers=extra)) == 20103


def test_a_default_namespace_envelope(app: AppServer) -> None:
    body = (
        f'<Envelope xmlns="{SOAP_ENV}"><Header>'
        f'<AuthenticationHeader xmlns="{MKTOWS}">'
        + auth_header("demo17_1_809934544BFABAE58E5D27", "27272727aa", prefix="x")
        .replace("<x:AuthenticationHeader>", "")
        .replace("</x:AuthenticationHeader>", "")
        + f'</AuthenticationHeader></Header><Body><paramsGetLead xmlns="{MKTOWS}">'
        f"{KEY}</paramsGetLead></Body></Envelope>"
    )
    assert _code(app, body) == 20103


def test_the_first_of_two_headers_counts(app: AppServer) -> None:
    signed = envelope("getLead", KEY)
    forged = signed.replace(
        "<SOAP-ENV:Header>", "<SOAP-ENV:Header></SOAP-ENV:Header><SOAP-ENV:Header>", 1
    )
    assert _code(app, forged) == 20014


def test_a_header_after_the_body_is_not_read(app: AppServer) -> None:
    signed = envelope("getLead", KEY)
    head_start = signed.index("<SOAP-ENV:Header>")
    head_end = signed.index("</SOAP-ENV:Header>") + len("</SOAP-ENV:Header>")
    header = signed[head_start:head_end]
    moved = signed.replace(header, "").replace("</SOAP-ENV:Body>", "</SOAP-ENV:Body>" + header)
    assert _code(app, moved) == 20014


def test_no_header_at_all(app: AppServer) -> None:
    assert _code(app, envelope("getLead", KEY, header="")) == 20014
