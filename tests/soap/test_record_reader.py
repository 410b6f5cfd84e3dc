"""The one record reader: what it makes of each shape, and the compiled reader giving exactly
the same records (tests/soap/test_record_reader_property.py tries every shape at random).

Both read the tree built by the one hardened parser; the C reader takes the common shape and
hands anything else back, so each case here must agree field for field.
"""

from __future__ import annotations

import os

import pytest
from lxml import etree

from leadsync.mktows import xml
from leadsync.model import FieldDef, FieldType, LeadInput
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncOptions, _prepare
from leadsync.soap import record_reader

CATALOGUE = FieldCatalogue(
    [
        FieldDef("Colour", FieldType.STRING, custom=True),
        *(FieldDef(f"Custom{i}", FieldType.STRING, custom=True) for i in range(100)),
    ]
)

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
    "two pairs in one attribute, then a name alone": "<leadRecord><Email>two@pairs.example"
    "</Email><leadAttributeList><attribute><attrName>FirstName</attrName><attrValue>1"
    "</attrValue><attrName>LastName</attrName><attrValue>2</attrValue></attribute>"
    "<attribute><attrName>City</attrName></attribute></leadAttributeList></leadRecord>",
    "an empty attribute and an empty name": "<leadRecord><Email>e@n.example</Email>"
    "<leadAttributeList><attribute/><attribute><attrName/><attrValue>x</attrValue>"
    "</attribute></leadAttributeList></leadRecord>",
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
    "unknown attribute": "<leadRecord><Email>y@d.example</Email><leadAttributeList>"
    + attr("City", "Metz")
    + attr("ShoeSize", "42")
    + "</leadAttributeList></leadRecord>",
    "a field in another case, before and after": "<leadRecord><leadAttributeList>"
    + attr("city", "first")
    + attr("City", "second")
    + attr("TITLE", "third")
    + "</leadAttributeList><Email>c@e.example</Email></leadRecord>",
    "a field twice, later wins": "<leadRecord><leadAttributeList>"
    + attr("City", "first")
    + attr("City", "second")
    + "</leadAttributeList><Email>d@e.example</Email></leadRecord>",
    "typed and untyped fields": "<leadRecord><leadAttributeList>"
    + attr("Email", " Mixed@E.example ")
    + attr("LeadScore", " 7 ")
    + attr("Phone", "+33 1")
    + attr("Website", "example.com")
    + attr("DoNotCall", "true")
    + "</leadAttributeList><Email>e@e.example</Email></leadRecord>",
    "a value too long": "<leadRecord><Email>f@e.example</Email><leadAttributeList>"
    + attr("City", "x" * 256)
    + attr("Title", "y" * 255)
    + attr("Company", "é" * 255)
    + "</leadAttributeList></leadRecord>",
    "blank values": "<leadRecord><Email>g@e.example</Email><leadAttributeList>"
    + attr("City", "  \t\n ")
    + attr("Title", "\u00a0\u2003")
    + attr("State", "\u0085")
    + attr("Country", "\u00a0x")
    + attr("Company", "")
    + attr("Colour", " x ")
    + "</leadAttributeList></leadRecord>",
    "attributes on the record": "<leadRecord id='r1'><Email>o@d.example</Email></leadRecord>",
    "not a leadRecord": "<somethingElse><Email>x@d.example</Email></somethingElse>",
}


def record_list(*bodies: str) -> str:
    return f"<leadRecordList {NS} {XSI}>" + "".join(bodies) + "</leadRecordList>"


def decode_both(
    document: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[LeadInput], list[LeadInput]]:
    with_c = record_reader.read_lead_records(xml.parse(document.encode()), CATALOGUE)
    with monkeypatch.context() as patch:
        patch.setattr(record_reader, "native_reader", None)
        in_python = record_reader.read_lead_records(xml.parse(document.encode()), CATALOGUE)
    return with_c, in_python


def prepared(records: list[LeadInput]) -> list[object]:
    """What the sync makes of each record: its typed values, key email and error."""
    out: list[object] = []
    for record in records:
        unknown: list[str] = []
        item = _prepare(CATALOGUE, record, unknown, SyncOptions())
        out.append((item.values, item.email_attr, item.key_email, item.error, unknown))
    return out


def same_records(with_c: list[LeadInput], in_python: list[LeadInput]) -> None:
    assert with_c == in_python
    assert prepared(with_c) == prepared(in_python)


def test_the_c_reader_is_built_unless_switched_off() -> None:
    # make install compiles it; without it syncs are correct but several times slower.
    # LEADSYNC_NO_SPEEDUPS=1 runs everything through the Python reader (CI does, once).
    if os.environ.get("LEADSYNC_NO_SPEEDUPS", "").strip() not in ("", "0"):
        assert record_reader.native_reader is None
    else:
        assert record_reader.native_reader is not None


@pytest.mark.parametrize("name", list(RECORDS))
def test_each_shape_reads_the_same(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with_c, in_python = decode_both(record_list(RECORDS[name]), monkeypatch)
    same_records(with_c, in_python)
    assert len(with_c) == 1


def test_a_list_of_every_shape_keeps_order(monkeypatch: pytest.MonkeyPatch) -> None:
    with_c, in_python = decode_both(record_list(*RECORDS.values()), monkeypatch)
    same_records(with_c, in_python)
    assert len(with_c) == len(RECORDS)


def test_values_are_read_as_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    with_c, _ = decode_both(record_list(RECORDS["entities and cdata"]), monkeypatch)
    (record,) = with_c
    assert record.typed == {"Company": "A & B <C> é", "Title": "<raw> & co"}
    with_c, _ = decode_both(record_list(RECORDS["name padded, value padded"]), monkeypatch)
    assert with_c[0].typed == {"City": "  Lyon  "}


def test_an_attribute_of_another_shape_fails_its_record(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 11's input: two name/value pairs in one attribute, then a name with no value.
    # Each attribute is one attrName and one attrValue (spec 4.2); guessing which pair was
    # meant, or clearing City, would write what nobody sent.
    document = record_list(RECORDS["two pairs in one attribute, then a name alone"])
    with_c, in_python = decode_both(document, monkeypatch)
    same_records(with_c, in_python)
    (record,) = with_c
    assert record.decode_error == (
        "attribute 1 holds 2 attrName and 2 attrValue elements; an attribute is one attrName"
        " and one attrValue; attribute City has no attrValue"
    )
    (values, _, key_email, error, _) = prepared(with_c)[0]
    assert values == {}
    assert key_email == "two@pairs.example"
    assert error == record.decode_error
    with_c, _ = decode_both(record_list(RECORDS["blank name, missing parts"]), monkeypatch)
    assert with_c[0].decode_error == (
        "attribute 1 has a blank attrName; attribute 2 has no attrName;"
        " attribute State has no attrValue"
    )
    assert with_c[0].typed == {"Country": None}


def test_an_empty_list_and_comments_between_records(monkeypatch: pytest.MonkeyPatch) -> None:
    assert decode_both(record_list(), monkeypatch) == ([], [])
    with_c, in_python = decode_both(
        record_list(RECORDS["common"], "<!-- a note -->", RECORDS["every key"]), monkeypatch
    )
    same_records(with_c, in_python)
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
    same_records(with_c, in_python)
    assert with_c[2].typed["Custom7"] == "again"
    assert len(with_c[0].typed) == 100


def test_plain_text_fields_are_typed_by_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    with_c, _ = decode_both(record_list(RECORDS["blank values"]), monkeypatch)
    assert with_c[0].typed == {
        "City": None,
        "Title": None,
        "State": None,
        "Country": "\u00a0x",
        "Company": None,
        "Colour": " x ",
    }
    assert with_c[0].attributes == []
    with_c, _ = decode_both(record_list(RECORDS["typed and untyped fields"]), monkeypatch)
    assert with_c[0].typed == {"Phone": "+33 1", "Website": "example.com"}
    assert with_c[0].attributes == [
        ("Email", " Mixed@E.example "),
        ("LeadScore", " 7 "),
        ("DoNotCall", "true"),
    ]
    with_c, _ = decode_both(record_list(RECORDS["a value too long"]), monkeypatch)
    assert with_c[0].typed == {"Title": "y" * 255, "Company": "é" * 255}
    assert with_c[0].attributes == [("City", "x" * 256)]


def test_names_not_spelled_as_a_field_keep_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # Which of two spellings of one field wins depends on their order, so such a record is
    # read whole by the Python reader.
    with_c, _ = decode_both(
        record_list(RECORDS["a field in another case, before and after"]), monkeypatch
    )
    assert with_c[0].typed == {}
    assert prepared(with_c)[0] == (
        {"City": "second", "Title": "third"},
        (False, None),
        "c@e.example",
        None,
        [],
    )


def test_records_read_in_c_leave_the_tree_and_the_rest_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Records read in C are freed at once (without the GIL); an element someone holds, and
    # every record handed to the Python reader, stay where they were. (The extension is
    # built by make install even when LEADSYNC_NO_SPEEDUPS switches it off.)
    from leadsync.soap import _speedups

    monkeypatch.setattr(record_reader, "native_reader", _speedups.read_lead_records)
    assert _speedups.frees_records()
    root = xml.parse(record_list(*RECORDS.values()).encode())
    held = root[0]
    records = record_reader.read_lead_records(root, CATALOGUE)
    assert len(records) == len(RECORDS)
    left = list(root)
    assert left[0] is held
    assert records[0].email == "a@b.example"
    # What stayed is what the Python reader needed: qualified, nil, unknown or odd shapes.
    assert 1 < len(left) < len(RECORDS)
    assert xml.parse(etree.tostring(root)) is not None
