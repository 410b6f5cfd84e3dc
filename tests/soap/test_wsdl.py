"""The served WSDL: Marketo's names and shapes, loadable by real SOAP clients.

Clients generate code from the WSDL, so a renamed type, a changed minOccurs or a lost
nillable changes the XML they send. The structural tests compare our document with
Marketo's WSDL 2_2 (copied into tests/data) after normalising what does not matter to a
client: prefixes, attribute order, attributes that spell out an XML Schema default, comments,
documentation and the order of top-level definitions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree
from suds.client import Client as SudsClient

from leadsync.soap.wsdl import render_wsdl, wsdl_operations
from support import DATA

REFERENCE = DATA / "marketo-mktows-2_2.wsdl"
ADDRESS = "http://127.0.0.1:8080/soap/mktows/2_2"

MKTOWS = "http://www.marketo.com/mktows/"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {"wsdl": WSDL, "soap": SOAP, "xsd": XSD}

# Everything we declare beyond WSDL 2_2: (complexType, child element) pairs.
OUR_ADDITIONS = {
    ("AuthenticationHeaderInfo", "partnerId"),
    ("ParamsGetLeadChanges", "activityNameFilter"),
}

# Attribute values that are QNames; they are compared resolved, so prefixes do not matter.
_QNAME_ATTRIBUTES = {"type", "base", "element", "message", "binding"}
# minOccurs="1", maxOccurs="1", nillable="false", abstract="false" say nothing a client
# would not assume anyway.
_DEFAULTS = {"minOccurs": "1", "maxOccurs": "1", "nillable": "false", "abstract": "false"}
_IGNORED = {f"{{{WSDL}}}documentation", f"{{{XSD}}}annotation"}

Shape = tuple[str, tuple[tuple[str, str], ...], tuple[Any, ...]]


# --------------------------------------------------------------------------- helpers


def _els(el: etree._Element, path: str) -> list[etree._Element]:
    found = el.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [x for x in found if isinstance(x, etree._Element)]


def _one(el: etree._Element, path: str) -> etree._Element:
    [found] = _els(el, path)
    return found


def _strs(el: etree._Element, path: str) -> list[str]:
    found = el.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(x) for x in found]


def _attr(el: etree._Element, name: str, default: str | None = None) -> str:
    value = el.get(name, default)
    assert value is not None, f"no {name} on {el.tag} at line {el.sourceline}"
    return str(value)


def _resolve(el: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    namespace = el.nsmap.get(prefix or None)
    assert namespace is not None, f"unbound prefix in {value!r} on line {el.sourceline}"
    return f"{{{namespace}}}{local}"


def _qattr(el: etree._Element, name: str) -> str:
    return _resolve(el, _attr(el, name))


def _shape(el: etree._Element, skip: frozenset[etree._Element] = frozenset()) -> Shape:
    """A prefix-free, default-free description of an element and everything inside it."""
    attrs: dict[str, str] = {}
    for key, value in el.attrib.items():
        name = str(key)
        attrs[name] = _resolve(el, str(value)) if name in _QNAME_ATTRIBUTES else str(value)
        if _DEFAULTS.get(name) == attrs[name]:
            del attrs[name]
    kids = tuple(
        _shape(kid, skip)
        for kid in el
        if isinstance(kid.tag, str) and kid.tag not in _IGNORED and kid not in skip
    )
    return (str(el.tag), tuple(sorted(attrs.items())), kids)


def _by_name(root: etree._Element, path: str) -> dict[str, etree._Element]:
    found: dict[str, etree._Element] = {}
    for el in _els(root, path):
        name = _attr(el, "name")
        assert name not in found, f"{name} is declared twice"
        found[name] = el
    return found


def _schema(root: etree._Element) -> etree._Element:
    return _one(root, "/wsdl:definitions/wsdl:types/xsd:schema")


def _complex_types(root: etree._Element, *, drop: set[tuple[str, str]]) -> dict[str, Shape]:
    types = _by_name(_schema(root), "xsd:complexType")
    skip = frozenset(
        extra
        for type_name, child in drop
        for extra in _els(types[type_name], f".//xsd:element[@name='{child}']")
    )
    assert len(skip) == len(drop), "a listed addition is missing"
    return {name: _shape(el, skip) for name, el in types.items()}


def _particles(root: etree._Element, type_name: str) -> list[tuple[str, str, str, str, str]]:
    """(name, type, minOccurs, maxOccurs, nillable) of a complex type's child elements."""
    ct = _by_name(_schema(root), "xsd:complexType")[type_name]
    return [
        (
            _attr(e, "name"),
            _qattr(e, "type"),
            _attr(e, "minOccurs", "1"),
            _attr(e, "maxOccurs", "1"),
            _attr(e, "nillable", "false"),
        )
        for e in _els(ct, ".//xsd:element")
    ]


def _binding_operations(root: etree._Element) -> dict[str, etree._Element]:
    return _by_name(root, "/wsdl:definitions/wsdl:binding/wsdl:operation")


def _soap_actions(root: etree._Element) -> dict[str, str]:
    return {
        name: _attr(_one(op, "soap:operation"), "soapAction")
        for name, op in _binding_operations(root).items()
    }


def _header_bindings(root: etree._Element) -> dict[str, list[tuple[str, str, str]]]:
    return {
        name: [
            (_qattr(h, "message"), _attr(h, "part"), _attr(h, "use"))
            for h in _els(op, "wsdl:input/soap:header")
        ]
        for name, op in _binding_operations(root).items()
    }


def _location(root: etree._Element) -> str:
    [location] = _strs(root, "/wsdl:definitions/wsdl:service/wsdl:port/soap:address/@location")
    return location


def _only_child(envelope: etree._Element, section: str) -> etree._Element:
    """The one element in the envelope's Header or Body."""
    parent = envelope.find(f"{{{SOAP_ENV}}}{section}")
    assert parent is not None, f"no {section}"
    [child] = parent
    return child


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ours() -> etree._Element:
    return etree.fromstring(render_wsdl(ADDRESS))


@pytest.fixture(scope="module")
def reference() -> etree._Element:
    return etree.parse(str(REFERENCE)).getroot()


@pytest.fixture(scope="module")
def wsdl_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wsdl") / "mktows.wsdl"
    path.write_bytes(render_wsdl(ADDRESS))
    return path


def _zeep(path: Path) -> Iterator[Any]:
    client = zeep.Client(str(path))  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.transport.session.close()


@pytest.fixture(scope="module")
def zeep_ours(wsdl_file: Path) -> Iterator[Any]:
    yield from _zeep(wsdl_file)


@pytest.fixture(scope="module")
def zeep_reference(reference: etree._Element) -> Iterator[Any]:
    yield from _zeep(REFERENCE)


# --------------------------------------------------------------------------- (a) shapes


def test_definitions_and_schema_attributes_match(
    ours: etree._Element, reference: etree._Element
) -> None:
    for attr in ("name", "targetNamespace"):
        assert _attr(ours, attr) == _attr(reference, attr)
    assert ours.get("targetNamespace") == MKTOWS
    assert _schema(ours).get("targetNamespace") == MKTOWS
    # Children of global elements must stay unqualified, as in Marketo's schema.
    for attr in ("elementFormDefault", "attributeFormDefault"):
        assert _schema(ours).get(attr) is None
        assert _schema(reference).get(attr) is None


def test_global_elements_match(ours: etree._Element, reference: etree._Element) -> None:
    def elements(root: etree._Element) -> dict[str, str]:
        return {
            name: _qattr(el, "type") for name, el in _by_name(_schema(root), "xsd:element").items()
        }

    assert elements(ours) == elements(reference)
    assert len(elements(ours)) == 2 + 2 * 23


def test_simple_types_and_enumerations_match(
    ours: etree._Element, reference: etree._Element
) -> None:
    def simple_types(root: etree._Element) -> dict[str, tuple[str, list[str]]]:
        found = {}
        for name, el in _by_name(_schema(root), "xsd:simpleType").items():
            restriction = _one(el, "xsd:restriction")
            values = _strs(restriction, "xsd:enumeration/@value")
            found[name] = (_qattr(restriction, "base"), values)
        return found

    assert simple_types(ours) == simple_types(reference)


def test_complex_types_match_apart_from_listed_additions(
    ours: etree._Element, reference: etree._Element
) -> None:
    mine = _complex_types(ours, drop=OUR_ADDITIONS)
    theirs = _complex_types(reference, drop=set())
    assert sorted(mine) == sorted(theirs)
    for name in theirs:
        assert mine[name] == theirs[name], name


@pytest.mark.parametrize(
    "type_name",
    ["LeadRecord", "ParamsSyncMultipleLeads", "SyncStatus", "AuthenticationHeaderInfo"],
)
def test_key_particles_are_readably_equal(
    ours: etree._Element, reference: etree._Element, type_name: str
) -> None:
    """The same check as above, spelled out for the types every client touches."""
    mine = [p for p in _particles(ours, type_name) if (type_name, p[0]) not in OUR_ADDITIONS]
    assert mine == _particles(reference, type_name)


def test_partner_id_is_the_only_addition_and_is_optional(ours: etree._Element) -> None:
    assert _particles(ours, "AuthenticationHeaderInfo") == [
        ("mktowsUserId", f"{{{XSD}}}string", "1", "1", "false"),
        ("requestSignature", f"{{{XSD}}}string", "1", "1", "false"),
        ("requestTimestamp", f"{{{XSD}}}string", "1", "1", "false"),
        ("audit", f"{{{XSD}}}string", "0", "1", "false"),
        ("mode", f"{{{XSD}}}int", "0", "1", "false"),
        # Last in the sequence, so a 2_2 client's header stays valid.
        ("partnerId", f"{{{XSD}}}string", "0", "1", "false"),
    ]


def test_lead_selectors_stay_polymorphic(ours: etree._Element) -> None:
    types = _by_name(_schema(ours), "xsd:complexType")
    assert types["LeadSelector"].get("abstract") == "true"
    for concrete in ("LeadKeySelector", "StaticListSelector", "LastUpdateAtSelector"):
        ext = _one(types[concrete], "xsd:complexContent/xsd:extension")
        assert _qattr(ext, "base") == f"{{{MKTOWS}}}LeadSelector"


def test_messages_match(ours: etree._Element, reference: etree._Element) -> None:
    def messages(root: etree._Element) -> dict[str, Shape]:
        return {n: _shape(m) for n, m in _by_name(root, "/wsdl:definitions/wsdl:message").items()}

    assert messages(ours) == messages(reference)


def test_port_type_and_operations_match(ours: etree._Element, reference: etree._Element) -> None:
    def port_types(root: etree._Element) -> dict[str, dict[str, Shape]]:
        return {
            name: {op: _shape(el) for op, el in _by_name(pt, "wsdl:operation").items()}
            for name, pt in _by_name(root, "/wsdl:definitions/wsdl:portType").items()
        }

    assert list(port_types(ours)) == ["MktowsPort"]
    assert port_types(ours) == port_types(reference)
    assert sorted(wsdl_operations()) == sorted(port_types(reference)["MktowsPort"])


def test_binding_matches(ours: etree._Element, reference: etree._Element) -> None:
    def bindings(root: etree._Element) -> dict[str, Any]:
        found = {}
        for name, b in _by_name(root, "/wsdl:definitions/wsdl:binding").items():
            ops = {op: _shape(el) for op, el in _by_name(b, "wsdl:operation").items()}
            found[name] = (_qattr(b, "type"), _shape(_one(b, "soap:binding")), ops)
        return found

    assert bindings(ours) == bindings(reference)
    soap_binding = _one(ours, "//soap:binding")
    assert soap_binding.get("style") == "document"
    assert soap_binding.get("transport") == "http://schemas.xmlsoap.org/soap/http"
    assert not _els(ours, "//wsdl:fault")


def test_soap_actions_and_header_bindings(ours: etree._Element, reference: etree._Element) -> None:
    actions = _soap_actions(ours)
    assert actions == _soap_actions(reference)
    assert actions == {op: MKTOWS + op for op in wsdl_operations()}

    headers = _header_bindings(ours)
    assert headers == _header_bindings(reference)
    auth = (f"{{{MKTOWS}}}AuthenticationHeader", "authentication", "literal")
    context = (f"{{{MKTOWS}}}MktowsContextHeader", "mktowsContext", "literal")
    for op, bound in headers.items():
        assert bound == ([auth, context] if op == "syncLead" else [auth]), op


def test_service_and_port_match(ours: etree._Element, reference: etree._Element) -> None:
    def services(root: etree._Element) -> dict[str, dict[str, str]]:
        return {
            name: {port: _qattr(el, "binding") for port, el in _by_name(svc, "wsdl:port").items()}
            for name, svc in _by_name(root, "/wsdl:definitions/wsdl:service").items()
        }

    assert services(ours) == services(reference)
    assert services(ours) == {
        "MktMktowsApiService": {"MktowsApiSoapPort": f"{{{MKTOWS}}}MktowsApiSoapBinding"}
    }
    assert _location(ours) == ADDRESS


def test_wsdl_operations_lists_the_port_type_in_document_order(ours: etree._Element) -> None:
    names = wsdl_operations()
    assert len(names) == len(set(names)) == 23
    assert names == _strs(ours, "/wsdl:definitions/wsdl:portType/wsdl:operation/@name")
    assert names == list(_soap_actions(ours))
    names.append("mutated")
    assert len(wsdl_operations()) == 23


# --------------------------------------------------------------------------- (b) zeep


_AUTH = {
    "mktowsUserId": "demo",
    "requestSignature": "0" * 40,
    "requestTimestamp": "2013-08-01T18:22:30-07:00",
}
_LEADS = {
    "leadRecord": [
        {
            "Email": "ada@example.com",
            "leadAttributeList": {"attribute": [{"attrName": "FirstName", "attrValue": "Ada"}]},
        }
    ]
}


def test_zeep_sees_service_port_operation_and_address(zeep_ours: Any) -> None:
    port = zeep_ours.wsdl.services["MktMktowsApiService"].ports["MktowsApiSoapPort"]
    assert port.binding_options["address"] == ADDRESS
    assert sorted(port.binding._operations) == sorted(wsdl_operations())
    operation = port.binding._operations["syncMultipleLeads"]
    assert operation.soapaction == MKTOWS + "syncMultipleLeads"


def test_zeep_builds_sync_multiple_leads_with_marketo_qualification(zeep_ours: Any) -> None:
    envelope = zeep_ours.create_message(
        zeep_ours.service,
        "syncMultipleLeads",
        leadRecordList=_LEADS,
        dedupEnabled=True,
        _soapheaders={"authentication": _AUTH},
    )
    header = _only_child(envelope, "Header")
    assert header.tag == f"{{{MKTOWS}}}AuthenticationHeader"
    assert [child.tag for child in header] == [
        "mktowsUserId",
        "requestSignature",
        "requestTimestamp",
    ]

    params = _only_child(envelope, "Body")
    assert params.tag == f"{{{MKTOWS}}}paramsSyncMultipleLeads"
    assert [child.tag for child in params] == ["leadRecordList", "dedupEnabled"]
    assert params.findtext("dedupEnabled") == "true"
    # Nothing below the wrapper is qualified.
    assert all("}" not in str(el.tag) for el in params.iterdescendants())
    assert params.findtext("leadRecordList/leadRecord/Email") == "ada@example.com"
    attribute = params.find("leadRecordList/leadRecord/leadAttributeList/attribute")
    assert attribute is not None
    assert [child.tag for child in attribute] == ["attrName", "attrValue"]


def test_zeep_writes_xsi_type_for_a_lead_selector(zeep_ours: Any) -> None:
    selector = zeep_ours.get_type(f"{{{MKTOWS}}}LeadKeySelector")(
        keyType="EMAIL", keyValues={"stringItem": ["ada@example.com"]}
    )
    envelope = zeep_ours.create_message(
        zeep_ours.service,
        "getMultipleLeads",
        leadSelector=selector,
        _soapheaders={"authentication": _AUTH},
    )
    element = _only_child(envelope, "Body").find("leadSelector")
    assert element is not None
    assert _qattr(element, f"{{{XSI}}}type") == f"{{{MKTOWS}}}LeadKeySelector"
    assert element.findtext("keyValues/stringItem") == "ada@example.com"


def _messages(client: Any) -> list[bytes]:
    """A few requests, as zeep serialises them from a given WSDL."""
    selector = client.get_type(f"{{{MKTOWS}}}StaticListSelector")(staticListName="Webinar")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("syncMultipleLeads", {"leadRecordList": _LEADS, "dedupEnabled": False}),
        (
            "syncLead",
            {
                "leadRecord": _LEADS["leadRecord"][0],
                "returnLead": True,
                "_soapheaders": {
                    "authentication": _AUTH,
                    "mktowsContext": {"targetWorkspace": "Default"},
                },
            },
        ),
        ("getMultipleLeads", {"leadSelector": selector, "batchSize": 100}),
        ("getLead", {"leadKey": {"keyType": "IDNUM", "keyValue": "7"}}),
        ("listMObjects", {}),
    ]
    out: list[bytes] = []
    for operation, kwargs in calls:
        kwargs.setdefault("_soapheaders", {"authentication": _AUTH})
        envelope = client.create_message(client.service, operation, **kwargs)
        out.append(etree.tostring(envelope, method="c14n"))
    return out


def test_zeep_serialises_requests_exactly_as_from_marketos_wsdl(
    zeep_ours: Any, zeep_reference: Any
) -> None:
    assert _messages(zeep_ours) == _messages(zeep_reference)


# --------------------------------------------------------------------------- (c) suds


@pytest.fixture(scope="module")
def suds_client(wsdl_file: Path) -> Any:
    return SudsClient(wsdl_file.as_uri(), cache=None, nosend=True)


def test_suds_lists_the_operations(suds_client: Any) -> None:
    [service] = suds_client.wsdl.services
    assert service.name == "MktMktowsApiService"
    [port] = service.ports
    assert port.name == "MktowsApiSoapPort"
    assert port.location == ADDRESS
    assert list(port.methods) == wsdl_operations()


def test_suds_builds_sync_multiple_leads(suds_client: Any) -> None:
    header = suds_client.factory.create("AuthenticationHeader")
    for key, value in _AUTH.items():
        setattr(header, key, value)
    suds_client.set_options(soapheaders=header)
    record = suds_client.factory.create("LeadRecord")
    record.Email = "ada@example.com"
    records = suds_client.factory.create("ArrayOfLeadRecord")
    records.leadRecord = [record]

    request = suds_client.service.syncMultipleLeads(leadRecordList=records, dedupEnabled=True)
    envelope = etree.fromstring(request.envelope)
    assert _only_child(envelope, "Header").tag == f"{{{MKTOWS}}}AuthenticationHeader"
    params = _only_child(envelope, "Body")
    assert params.tag == f"{{{MKTOWS}}}paramsSyncMultipleLeads"
    assert all("}" not in str(el.tag) for el in params.iterdescendants())
    assert params.findtext("leadRecordList/leadRecord/Email") == "ada@example.com"


# --------------------------------------------------------------------------- (d) address


def test_address_is_escaped_inside_the_attribute() -> None:
    address = "https://h.example/soap/mktows/2_2?a=1&b=<2>\"'"
    document = render_wsdl(address)
    assert (
        b'location="https://h.example/soap/mktows/2_2?a=1&amp;b=&lt;2&gt;&quot;&apos;"' in document
    )
    assert _location(etree.fromstring(document)) == address


def test_address_cannot_inject_markup() -> None:
    address = 'x"/><soap:address location="http://evil.example/'
    root = etree.fromstring(render_wsdl(address))
    assert _location(root) == address
    assert len(_els(root, "//soap:address")) == 1


def test_non_ascii_address_round_trips_as_utf8() -> None:
    address = "https://bücher.example/soap/mktows/2_2"
    document = render_wsdl(address)
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert address.encode("utf-8") in document
    assert _location(etree.fromstring(document)) == address


@pytest.mark.parametrize("bad", ["\x00", "\n", "\t", "\x1f", "\ud800", "\ufffe"])
def test_address_with_characters_xml_cannot_carry_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid character"):
        render_wsdl(f"http://h.example/{bad}")


def test_placeholder_is_gone_and_rendering_is_stable() -> None:
    document = render_wsdl(ADDRESS)
    assert b"{{" not in document
    assert document == render_wsdl(ADDRESS)
