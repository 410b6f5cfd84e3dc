"""The C reader of lead records gives exactly what the Python reader gives, for every shape.

Both read the tree built by the one hardened parser; the C reader takes the common shape and
hands anything else back, so each case here must agree field for field.
"""

from __future__ import annotations

import pytest

from leadsync.soap import leads, xml

NS = 'xmlns:ns1="http://www.marketo.com/mktows/"'
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def attr(name: str, value: str) -> str:
    return f"<attribute><attrName>{name}</attrName><attrValue>{value}</attrValue></attribute>"


RECORDS = {
    "common": "<leadRecord><Email>a@b.example</Email><leadAttributeList>"
    + attr("FirstName", "Ann")
    + attr("LeadScore", "12")
    + "</leadAttributeList></leadRecord>",
    "every key": "<leadRecord><Id> 42 </Id><Email> a@b.example </Email>"
    "<ForeignSysPersonId> X1 </ForeignSysPersonId><ForeignSysType>sfdc</ForeignSysType>"
    "</leadRecord>",
    "lower camel keys": "<leadRecord><foreignSysPersonId>X2</foreignSysPersonId>"
    "<foreignSysType>CUSTOM</foreignSysType></leadRecord>",
    "keys in other case": "<leadRecord><EMAIL>c@d.example</EMAIL><id>7</id></leadRecord>",
    "qualified key": f"<leadRecord {NS}><ns1:Email>q@d.example</ns1:Email></leadRecord>",
    "nil key": f"<leadRecord {XSI}><Id xsi:nil='true'/><Email>n@d.example</Email></leadRecord>",
    "bad id": "<leadRecord><Id>abc</Id></leadRecord>",
    "id out of range": "<leadRecord><Id>0</Id><Email>z@d.example</Email></leadRecord>",
    "empty elements": "<leadRecord><Id></Id><Email/><ForeignSysPersonId/></leadRecord>",
    "unknown child": "<leadRecord><Email>u@d.example</Email><Colour>red</Colour></leadRecord>",
    "entities and cdata": "<leadRecord><Email>e@d.example</Email><leadAttributeList>"
    + attr("Company", "A &amp; B &lt;C&gt; &#233;")
    + attr("Title", "<![CDATA[<raw> & co]]>")
    + "</leadAttributeList></leadRecord>",
    "text and cdata mixed": "<leadRecord><leadAttributeList>"
    + attr("Title", "head <![CDATA[<mid>]]> tail")
    + "</leadAttributeList><Email>m@d.example</Email></leadRecord>",
    "attrType and reversed order": "<leadRecord><Email>r@d.example</Email><leadAttributeList>"
    "<attribute><attrType>string</attrType><attrValue>V</attrValue>"
    "<attrName>City</attrName></attribute></leadAttributeList></leadRecord>",
    "name padded, value padded": "<leadRecord><Email>p@d.example</Email><leadAttributeList>"
    + attr("  City\n", "  Lyon  ")
    + "</leadAttributeList></leadRecord>",
    "blank name, missing parts": "<leadRecord><Email>b@d.example</Email><leadAttributeList>"
    + attr("   ", "x")
    + "<attribute><attrValue>no name</attrValue></attribute>"
    "<attribute><attrName>State</attrName></attribute>"
    + attr("Country", "")
    + "</leadAttributeList></leadRecord>",
    "nil value": f"<leadRecord {XSI}><Email>v@d.example</Email><leadAttributeList>"
    "<attribute><attrName>City</attrName><attrValue xsi:nil='true'/></attribute>"
    "</leadAttributeList></leadRecord>",
    "qualified attribute parts": f"<leadRecord {NS}><Email>w@d.example</Email>"
    "<leadAttributeList><ns1:attribute><ns1:attrName>City</ns1:attrName>"
    "<ns1:attrValue>Nice</ns1:attrValue></ns1:attribute></leadAttributeList></leadRecord>",
    "markup inside a value": "<leadRecord><Email>k@d.example</Email><leadAttributeList>"
    + attr("Title", "a<b>bold</b>c")
    + "</leadAttributeList></leadRecord>",
    "whitespace between elements": "<leadRecord>\n  <Email>s@d.example</Email>\n"
    "  <leadAttributeList>\n    <attribute>\n      <attrName>City</attrName>\n"
    "      <attrValue>Pau</attrValue>\n    </attribute>\n  </leadAttributeList>\n</leadRecord>",
    "two lists, later wins": "<leadRecord><leadAttributeList>"
    + attr("City", "One")
    + "</leadAttributeList><leadAttributeList>"
    + attr("City", "Two")
    + "</leadAttributeList><Email>t@d.example</Email></leadRecord>",
    "unicode": "<leadRecord><Email>ü@d.example</Email><leadAttributeList>"
    + attr("LastName", "Łukasz 李 🙂")
    + "</leadAttributeList></leadRecord>",
    "attributes on the record": "<leadRecord id='r1'><Email>o@d.example</Email></leadRecord>",
    "not a leadRecord": "<somethingElse><Email>x@d.example</Email></somethingElse>",
}


def record_list(*bodies: str) -> str:
    return f"<leadRecordList {NS} {XSI}>" + "".join(bodies) + "</leadRecordList>"


def decode_both(
    document: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[object], list[object]]:
    root = xml.parse(document.encode())
    with_c = leads.decode_lead_records(root)
    monkeypatch.setattr(leads, "_read_in_c", None)
    in_python = leads.decode_lead_records(root)
    return with_c, in_python


def test_the_c_reader_is_built() -> None:
    # make install compiles it; without it syncs are correct but several times slower.
    assert leads._read_in_c is not None


@pytest.mark.parametrize("name", list(RECORDS))
def test_each_shape_reads_the_same(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with_c, in_python = decode_both(record_list(RECORDS[name]), monkeypatch)
    assert with_c == in_python
    assert len(with_c) == 1


def test_a_list_of_every_shape_keeps_order(monkeypatch: pytest.MonkeyPatch) -> None:
    with_c, in_python = decode_both(record_list(*RECORDS.values()), monkeypatch)
    assert with_c == in_python
    assert len(with_c) == len(RECORDS)


def test_values_are_read_as_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    with_c, _ = decode_both(record_list(RECORDS["entities and cdata"]), monkeypatch)
    (record,) = with_c
    assert record.attributes == [  # type: ignore[attr-defined]
        ("Company", "A & B <C> é"),
        ("Title", "<raw> & co"),
    ]
    with_c, _ = decode_both(record_list(RECORDS["name padded, value padded"]), monkeypatch)
    assert with_c[0].attributes == [("City", "  Lyon  ")]  # type: ignore[attr-defined]


def test_an_empty_list_and_comments_between_records(monkeypatch: pytest.MonkeyPatch) -> None:
    assert decode_both(record_list(), monkeypatch) == ([], [])
    with_c, in_python = decode_both(
        record_list(RECORDS["common"], "<!-- a note -->", RECORDS["every key"]), monkeypatch
    )
    assert with_c == in_python
    assert len(with_c) == 2


def test_more_distinct_names_than_the_reader_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    # Names beyond the reader's small cache are read all the same.
    many = "".join(attr(f"Custom{i}", str(i)) for i in range(100))
    records = [
        f"<leadRecord><Email>n{j}@d.example</Email><leadAttributeList>{many}"
        f"{attr(' Custom7 ', 'again')}</leadAttributeList></leadRecord>"
        for j in range(3)
    ]
    with_c, in_python = decode_both(record_list(*records), monkeypatch)
    assert with_c == in_python
    assert with_c[2].attributes[-1] == ("Custom7", "again")  # type: ignore[attr-defined]
    assert len(with_c[0].attributes) == 101  # type: ignore[attr-defined]
