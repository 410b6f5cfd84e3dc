"""The compiled record reader gives exactly the records the Python reader gives, for every
input: records generated at random, malformed shapes included (repeated or missing
elements, several name/value pairs in one attribute, whitespace, CDATA, comments, nil,
non-ASCII, empty and over-long values, names in other spellings)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.model import FieldDef, FieldType, LeadInput
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncOptions, _prepare
from leadsync.soap import _speedups, record_reader

CATALOGUE = FieldCatalogue(
    [FieldDef("Colour", FieldType.STRING, custom=True), FieldDef("Notes", FieldType.TEXT)]
)
NS = 'xmlns:ns1="http://www.marketo.com/mktows/"'
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

# Every character XML 1.0 carries, weighted towards the ones readers treat specially.
XML_CHARS = st.characters(
    exclude_categories=("Cs",),
    exclude_characters=[chr(c) for c in range(0x20) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"],
)
TEXTS = st.one_of(
    st.text(XML_CHARS, max_size=12),
    st.text(st.sampled_from(" \t\r\n\u00a0\u0085\u2003x&<>]é😀"), max_size=8),
    st.sampled_from(["", " ", "x" * 255, "x" * 256, "é" * 255, "é" * 256, "1", " 42 ", "abc"]),
)
NAMES = st.one_of(
    st.sampled_from(
        [
            "FirstName",
            "City",
            "Title",
            "Company",
            "Phone",
            "Website",
            "Colour",
            "Notes",
            "LeadScore",
            "Email",
            "DoNotCall",
            "city",
            "TITLE",
            " City ",
            "City\n",
            "\u00a0City",
            "City\u2003",
            "\u2003",
            "   ",
            "",
            "ShoeSize",
        ]
    ),
    TEXTS,
)


@st.composite
def content(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXTS) -> str:
    """The inside of an element holding ``text``, written one of the ways XML allows."""
    value = draw(text)
    way = draw(st.sampled_from(["escaped", "cdata", "split", "comment", "child"]))
    if way == "escaped":
        return esc(value)
    if way == "cdata":
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    cut = draw(st.integers(0, len(value)))
    head, tail = esc(value[:cut]), esc(value[cut:])
    if way == "split":
        return head + "<![CDATA[" + value[cut:].replace("]]>", "]]]]><![CDATA[>") + "]]>"
    if way == "comment":
        return head + "<!-- note -->" + tail
    return head + "<b>bold</b>" + tail


@st.composite
def element(draw: st.DrawFn, tag: str, inner: st.SearchStrategy[str]) -> str:
    """``tag`` holding ``inner``, plain most of the time, else in another legal shape."""
    shape = draw(
        st.sampled_from(
            ["plain"] * 6 + ["empty", "nil", "nil with text", "qualified", "attribute", "spaced"]
        )
    )
    body = draw(inner)
    if shape == "empty":
        return f"<{tag}/>"
    if shape == "nil":
        return f'<{tag} xsi:nil="true"/>'
    if shape == "nil with text":
        return f'<{tag} xsi:nil="{draw(st.sampled_from(["true", "1", "false"]))}">{body}</{tag}>'
    if shape == "qualified":
        return f"<ns1:{tag}>{body}</ns1:{tag}>"
    if shape == "attribute":
        return f'<{tag} id="a">{body}</{tag}>'
    if shape == "spaced":
        return f"\n  <{tag}>{body}</{tag}>\n"
    return f"<{tag}>{body}</{tag}>"


NOISE = st.sampled_from(["", " ", "\n  ", "<!-- c -->", "<?pi x?>", "<unknown>u</unknown>"])


FIELD_NAMES = st.sampled_from(["FirstName", "LastName", "City", "Title", "Notes", "LeadScore"])


@st.composite
def attribute(draw: st.DrawFn) -> str:
    name = element("attrName", content(NAMES))
    value = element("attrValue", content())
    mode = draw(st.sampled_from(["usual", "usual", "pairs", "any"]))
    if mode == "usual":  # the shape clients send
        parts = [draw(name), draw(value)]
        if draw(st.booleans()):
            parts.insert(1, "<attrType>string</attrType>")
    elif mode == "pairs":  # several name/value pairs in one attribute, or a part missing
        parts = []
        for _ in range(draw(st.integers(0, 3))):
            parts.append(f"<attrName>{draw(FIELD_NAMES)}</attrName>")
            parts.append(f"<attrValue>{esc(draw(TEXTS))}</attrValue>")
        if parts and draw(st.booleans()):
            del parts[draw(st.integers(0, len(parts) - 1))]
    else:
        pool = st.one_of(name, value, st.just("<attrType>string</attrType>"), NOISE)
        parts = draw(st.lists(pool, max_size=5))
    tag = draw(st.sampled_from(["attribute"] * 5 + ["ns1:attribute", "other"]))
    return f"<{tag}>{''.join(parts)}</{tag}>"


@st.composite
def attribute_list(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.one_of(attribute(), NOISE), max_size=6))
    return draw(element("leadAttributeList", st.just("".join(items))))


KEY_TAGS = {
    "Id": ["Id", "id", "ID"],
    "Email": ["Email", "email", "EMAIL"],
    "ForeignSysPersonId": ["ForeignSysPersonId", "foreignSysPersonId", "FOREIGNSYSPERSONID"],
    "ForeignSysType": ["ForeignSysType", "foreignSysType"],
}
KEY_TEXTS = {
    "Id": st.sampled_from(["1", " 42 ", "abc", "0", "-3", "9" * 20, "", "7"]),
    "Email": st.one_of(st.sampled_from(["a@b.example", " A@B.example ", "", "no-at"]), TEXTS),
    "ForeignSysPersonId": TEXTS,
    "ForeignSysType": st.sampled_from(["CUSTOM", "sfdc", " NETSUITE ", "bad", ""]),
}


@st.composite
def key(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(sorted(KEY_TAGS)))
    tag = draw(st.sampled_from(KEY_TAGS[kind]))
    return draw(element(tag, content(KEY_TEXTS[kind])))


@st.composite
def record(draw: st.DrawFn) -> str:
    children = draw(st.lists(st.one_of(key(), attribute_list(), NOISE), max_size=7))
    tag = draw(st.sampled_from(["leadRecord"] * 8 + ["ns1:leadRecord", "other"]))
    extra = draw(st.sampled_from([""] * 8 + [' id="r"']))
    return f"<{tag}{extra}>{''.join(children)}</{tag}>"


@st.composite
def pairs(draw: st.DrawFn) -> str:
    """An attribute of plain elements: usually one name and one value, else several names
    or values, or one missing, in any order; the compiled reader sees most of these."""
    counts = st.sampled_from([1, 1, 1, 0, 2, 3])
    parts = [
        f"<attrName>{esc(draw(st.one_of(FIELD_NAMES, NAMES)))}</attrName>"
        for _ in range(draw(counts))
    ] + [f"<attrValue>{esc(draw(TEXTS))}</attrValue>" for _ in range(draw(counts))]
    if draw(st.booleans()):
        draw(st.randoms()).shuffle(parts)
    return f"<attribute>{''.join(parts)}</attribute>"


@st.composite
def plain_record(draw: st.DrawFn) -> str:
    """A record in the shape clients send, but for its attributes."""
    children = [
        f"<{tag}>{esc(draw(KEY_TEXTS[tag]))}</{tag}>"
        for tag in draw(st.lists(st.sampled_from(sorted(KEY_TAGS)), max_size=3))
    ]
    for _ in range(draw(st.integers(0, 2))):
        items = draw(st.lists(pairs(), max_size=5))
        children.append(f"<leadAttributeList>{''.join(items)}</leadAttributeList>")
    draw(st.randoms()).shuffle(children)
    return f"<leadRecord>{''.join(children)}</leadRecord>"


RECORD_LISTS = st.lists(st.one_of(record(), plain_record(), NOISE), max_size=5).map(
    lambda records: f"<leadRecordList {NS} {XSI}>{''.join(records)}</leadRecordList>"
)


def read(document: str, native: object) -> list[LeadInput]:
    root = xml.parse(document.encode("utf-8"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(record_reader, "native_reader", native)
        return record_reader.read_lead_records(root, CATALOGUE)


def prepared(records: list[LeadInput]) -> list[object]:
    out: list[object] = []
    for item in records:
        unknown: list[str] = []
        done = _prepare(CATALOGUE, item, unknown, SyncOptions())
        out.append((done.values, done.email_attr, done.key_email, done.error, unknown))
    return out


# LEADSYNC_PROPERTY_EXAMPLES runs more (or fewer) examples than make test's default.
@settings(
    max_examples=int(os.environ.get("LEADSYNC_PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(RECORD_LISTS)
def test_the_compiled_reader_equals_the_python_reader(document: str) -> None:
    in_c = read(document, _speedups.read_lead_records)
    in_python = read(document, None)
    assert in_c == in_python
    assert prepared(in_c) == prepared(in_python)
