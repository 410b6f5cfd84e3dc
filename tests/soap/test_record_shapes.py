"""What syncMultipleLeads and syncLead make of a record whose attributes are not one name and
one value each, in-process on each backend (docs/compatibility.md, "Reading a leadRecord")."""

from __future__ import annotations

from lxml import etree

from leadsync.mktows import xml
from leadsync.soap.endpoint import SoapService
from leadsync.store.base import Store
from support import envelope, sync_params

GOOD = (
    "<leadRecord><Email>good@shapes.example</Email><leadAttributeList><attribute>"
    "<attrName>City</attrName><attrValue>Lyon</attrValue></attribute></leadAttributeList>"
    "</leadRecord>"
)
# Issue 11's input: one attribute holding two name/value pairs, then a name with no value.
TWO_PAIRS = (
    "<leadRecord><Email>pairs@shapes.example</Email><leadAttributeList><attribute>"
    "<attrName>FirstName</attrName><attrValue>1</attrValue>"
    "<attrName>LastName</attrName><attrValue>2</attrValue></attribute>"
    "<attribute><attrName>City</attrName></attribute></leadAttributeList></leadRecord>"
)
ERROR = (
    "attribute 1 holds 2 attrName and 2 attrValue elements; an attribute is one attrName and"
    " one attrValue; attribute City has no attrValue"
)


def _call(service: SoapService, operation: str, params: str) -> tuple[int, etree._Element]:
    status, body = service.process(envelope(operation, params).encode("utf-8"))
    return status, xml.parse(body)


def test_sync_multiple_leads_fails_that_record_alone(service: SoapService, store: Store) -> None:
    status, root = _call(service, "syncMultipleLeads", sync_params([GOOD, TWO_PAIRS]))
    assert status == 200
    found = [
        (xml.text(xml.child(s, "status")), xml.text(xml.child(s, "error")))
        for s in root.iter("syncStatus")
    ]
    assert found == [("CREATED", None), ("FAILED", ERROR)]
    with store.read() as reader:
        assert reader.count_leads() == 1
        assert list(reader.newest_leads_by_email(["pairs@shapes.example"])) == []


def test_sync_lead_faults_with_the_same_reason(service: SoapService, store: Store) -> None:
    status, root = _call(service, "syncLead", TWO_PAIRS + "<returnLead>false</returnLead>")
    assert status == 500
    assert xml.text(next(root.iter("code"))) == "20106"
    assert ERROR in (xml.text(next(root.iter("message"))) or "")
    with store.read() as reader:
        assert reader.count_leads() == 0
