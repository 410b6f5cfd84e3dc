"""THE hardened parser: no DTD, no entity, no network, for whole documents and pull parsing."""

from __future__ import annotations

import pytest

from leadsync.mktows import xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>"""

EXTERNAL_DTD = b'<!DOCTYPE foo SYSTEM "http://127.0.0.1:9/x.dtd"><foo/>'


@pytest.mark.parametrize(
    "document",
    [
        BILLION_LAUGHS,
        XXE,
        EXTERNAL_DTD,
        b"<!-- first --><?pi x?><!DOCTYPE foo><foo/>",
        "<!DOCTYPE foo><foo/>".encode("utf-16"),
    ],
)
def test_a_dtd_is_refused(document: bytes) -> None:
    with pytest.raises(xml.XmlRefused, match="DTD"):
        xml.parse(document)


@pytest.mark.parametrize(
    "document", [b"", b"<a>", b"<a></b>", b"<a>&undeclared;</a>", b"<a>&#1;</a>", b"<a>\x01</a>"]
)
def test_anything_not_well_formed_is_refused(document: bytes) -> None:
    with pytest.raises(xml.XmlRefused, match="malformed"):
        xml.parse(document)


def test_comments_and_processing_instructions_are_dropped() -> None:
    root = xml.parse(b"<a><!-- c --><?pi x?><b>1</b>x<!-- d -->y</a>")
    assert [xml.local(c) for c in xml.children(root)] == ["b"]
    assert xml.text(root) == "1xy"


def test_entity_text_in_cdata_is_only_text() -> None:
    root = xml.parse(b"<a><![CDATA[<!ENTITY x 'y'> &x;]]></a>")
    assert xml.text(root) == "<!ENTITY x 'y'> &x;"


def test_helpers_match_children_by_local_name_and_read_nil() -> None:
    root = xml.parse(
        b'<r xmlns:q="urn:q" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<q:Email>e</q:Email><foreignSysPersonId>f</foreignSysPersonId><n xsi:nil="true"/>'
        b"<empty/></r>"
    )
    assert xml.text(xml.child(root, "Email")) == "e"
    assert xml.child(root, "ForeignSysPersonId") is None
    assert xml.text(xml.child_ci(root, "ForeignSysPersonId")) == "f"
    assert xml.text(xml.child(root, "n")) is None
    assert xml.text(xml.child(root, "empty")) == ""
    assert xml.text(xml.child(root, "missing")) is None
    assert xml.child(None, "x") is None


def test_a_pull_parser_expands_no_entity_and_refuses_a_dtd() -> None:
    parser = xml.pull_parser()
    parser.feed(XXE[:40])
    parser.feed(XXE[40:])
    events = list(parser.read_events())
    root = parser.close()
    assert b"root:" not in (root.text or "").encode()
    assert all(el.text in (None, "") for _, el in events)
    with pytest.raises(xml.XmlRefused):
        xml.refuse_dtd(root)


def test_whole_numbers_are_read_and_blanks_are_none() -> None:
    root = xml.parse(
        b'<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><a> 42 </a><b/>'
        b'<c xsi:nil="true"/><d>4.2</d><e>-7</e></r>'
    )
    assert xml.int_text(xml.child(root, "a")) == 42
    assert xml.int_text(xml.child(root, "b")) is None
    assert xml.int_text(xml.child(root, "c")) is None
    assert xml.int_text(xml.child(root, "missing")) is None
    assert xml.int_text(xml.child(root, "e")) == -7
    with pytest.raises(ValueError, match=r"4\.2"):
        xml.int_text(xml.child(root, "d"))
