"""Signing, envelopes, batching and the rate budget, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from leadsync.client import Lead, MktowsFault, ProtocolError, RateLimiter, SyncStatus, envelopes
from leadsync.client.batching import Batcher, split
from leadsync.client.envelopes import RecordError
from leadsync.mktows.codes import FaultCode
from leadsync.mktows.signing import sign, timestamp

DEMO_USER = "demo17_1_809934544BFABAE58E5D27"


@pytest.mark.parametrize(
    ("stamp", "signature"),
    [
        ("2013-08-01T18:22:30-07:00", "b5e21953ae9f1b263e644da5eccce9ff33802513"),
        ("2013-08-02T15:47:06-07:00", "146ec93f4f1e2a45f7a545f7e42e2d053c0457e7"),
        ("2013-08-05T11:01:07-07:00", "d27074cb49414b3410fd7ab58b5945c3e86d28d4"),
        ("2013-08-20T13:32:02-07:00", "cdea055214cc726b651dc44ef694e1db4babfcb1"),
    ],
)
def test_signature_matches_the_documented_vectors(stamp: str, signature: str) -> None:
    assert sign("27272727aa", stamp, DEMO_USER) == signature


def test_timestamp_is_w3c_with_an_offset() -> None:
    moment = datetime(2013, 8, 1, 18, 22, 30, 123456, tzinfo=timezone(timedelta(hours=-7)))
    assert timestamp(moment) == "2013-08-02T01:22:30+00:00"
    assert timestamp().endswith("+00:00")


def test_every_envelope_is_signed_afresh() -> None:
    first = envelopes.envelope_prefix("u", "k", "syncMultipleLeads")
    root = etree.fromstring(
        first + b"</ns1:paramsSyncMultipleLeads></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    header = root[0][0]
    assert header.tag == "{http://www.marketo.com/mktows/}AuthenticationHeader"
    values = {child.tag: child.text for child in header}
    assert values["requestSignature"] == sign("k", values["requestTimestamp"] or "", "u")


def test_lead_record_in_schema_order_and_escaped() -> None:
    lead = Lead(
        id=7,
        email="a&b@example.com",
        foreign_sys_person_id="F<1>",
        foreign_sys_type="CUSTOM",
        attributes={"Notes": "line1\r\nline2", "DoNotCall": True, "Score": 3, "Skip": None},
    )
    xml = envelopes.lead_record(lead)
    assert xml == (
        b"<leadRecord><Id>7</Id><Email>a&amp;b@example.com</Email>"
        b"<ForeignSysPersonId>F&lt;1&gt;</ForeignSysPersonId><ForeignSysType>CUSTOM</ForeignSysType>"
        b"<leadAttributeList>"
        b"<attribute><attrName>Notes</attrName><attrValue>line1&#13;\nline2</attrValue></attribute>"
        b"<attribute><attrName>DoNotCall</attrName><attrValue>true</attrValue></attribute>"
        b"<attribute><attrName>Score</attrName><attrValue>3</attrValue></attribute>"
        b"</leadAttributeList></leadRecord>"
    )
    # The carriage return survives a parser's line-ending normalisation.
    parsed = etree.fromstring(xml)
    assert parsed.find(".//attrValue").text == "line1\r\nline2"


def test_a_value_xml_cannot_carry_fails_its_record() -> None:
    with pytest.raises(RecordError, match="U\\+0001"):
        envelopes.lead_record(Lead(email="x@example.com", attributes={"Notes": "a\x01b"}))


def test_from_mapping_keys_attributes_and_email_follow_up() -> None:
    lead = Lead.from_mapping(
        {"id": "12", "Email": "x@example.com", "Company": "Acme", "Gone": None}
    )
    assert lead.id == 12
    assert lead.email == "x@example.com"
    assert lead.attributes == {"Company": "Acme", "Email": "x@example.com"}
    by_email = Lead.from_mapping({"Email": "x@example.com"})
    assert by_email.attributes == {}
    with pytest.raises(ValueError, match="Id must be an integer"):
        Lead.from_mapping({"Id": "abc"})


FAULT = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
  <SOAP-ENV:Body>
    <SOAP-ENV:Fault>
      <faultcode>SOAP-ENV:Client</faultcode>
      <faultstring>20103 - Lead not found</faultstring>
      <detail>
        <ns1:serviceException xmlns:ns1="http://www.marketo.com/mktows/">
          <name>mktServiceException</name>
          <message>No lead found with EMAIL = rufus@marketo.com (20103)</message>
          <code>20103</code>
        </ns1:serviceException>
      </detail>
    </SOAP-ENV:Fault>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


def test_fault_is_read_by_its_code() -> None:
    with pytest.raises(MktowsFault) as caught:
        envelopes.success(FAULT, "getLead", 500)
    fault = caught.value
    assert fault.code is FaultCode.LEAD_NOT_FOUND
    assert fault.code == 20103
    assert fault.faultcode == "SOAP-ENV:Client"
    assert fault.message == "No lead found with EMAIL = rufus@marketo.com (20103)"
    assert not fault.retryable
    assert not fault.fatal
    # A code outside Marketo's catalogue stays a plain number.
    with pytest.raises(MktowsFault) as caught:
        envelopes.success(FAULT.replace(b"20103", b"29999"), "getLead", 500)
    assert type(caught.value.code) is int
    assert caught.value.code == 29999


SYNC_RESPONSE = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
                   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                   xmlns:ns1="http://www.marketo.com/mktows/">
  <SOAP-ENV:Body>
    <ns1:successSyncMultipleLeads>
      <result>
        <syncStatusList>
          <syncStatus>
            <leadId>1090240</leadId><status>UPDATED</status><error xsi:nil="true" />
          </syncStatus>
          <syncStatus>
            <leadId>0</leadId><status>FAILED</status><error>Lead not found</error>
          </syncStatus>
        </syncStatusList>
      </result>
    </ns1:successSyncMultipleLeads>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


def test_sync_statuses_are_read_in_order() -> None:
    element = envelopes.success(SYNC_RESPONSE, "syncMultipleLeads", 200)
    assert envelopes.sync_statuses(element) == [
        (SyncStatus.UPDATED, 1090240, None),
        (SyncStatus.FAILED, None, "Lead not found"),
    ]


def test_other_prefixes_are_read_by_namespace() -> None:
    other = SYNC_RESPONSE.replace(b"SOAP-ENV", b"soap").replace(b"ns1", b"m")
    element = envelopes.success(other, "syncMultipleLeads", 200)
    assert len(envelopes.sync_statuses(element)) == 2


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<lolz>&lol2;</lolz>",
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:1/x.dtd"><x/>',
        b"<not-closed>",
    ],
)
def test_hostile_or_broken_answers_are_refused(document: bytes) -> None:
    with pytest.raises(ProtocolError):
        envelopes.success(document, "syncMultipleLeads", 200)


def test_an_answer_to_another_operation_is_refused() -> None:
    with pytest.raises(ProtocolError, match="successGetLead"):
        envelopes.success(SYNC_RESPONSE, "getLead", 200)


GET_LEAD = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ns1="http://www.marketo.com/mktows/">
  <SOAP-ENV:Body><ns1:successGetLead><result><count>1</count><leadRecordList><leadRecord>
    <Id>1089965</Id><Email>rufus@marketo.com</Email>
    <ForeignSysPersonId xsi:nil="true" /><ForeignSysType xsi:nil="true" />
    <leadAttributeList>
      <attribute><attrName>Company</attrName><attrType>string</attrType><attrValue>Marketo</attrValue></attribute>
      <attribute><attrName>LeadScore</attrName><attrType>integer</attrType><attrValue>62</attrValue></attribute>
    </leadAttributeList>
  </leadRecord></leadRecordList></result></ns1:successGetLead></SOAP-ENV:Body></SOAP-ENV:Envelope>"""


def test_get_lead_answer_is_read() -> None:
    (lead,) = envelopes.get_lead_result(envelopes.success(GET_LEAD, "getLead", 200))
    assert lead.id == 1089965
    assert lead.email == "rufus@marketo.com"
    assert lead.foreign_sys_person_id is None
    assert lead.attributes == {"Company": "Marketo", "LeadScore": "62"}
    assert lead.attribute_types == {"Company": "string", "LeadScore": "integer"}


# -- batching -------------------------------------------------------------------------------


def test_batches_split_by_count() -> None:
    records = [(b"x" * 10, i) for i in range(650)]
    batches = list(split(records, max_records=300, max_bytes=10_000_000))
    assert [len(b) for b in batches] == [300, 300, 50]
    assert [t for b in batches for t in b.tags] == list(range(650))


def test_batches_split_by_bytes_including_the_envelope() -> None:
    records = [(b"y" * 100, i) for i in range(25)]
    batches = list(split(records, max_records=300, max_bytes=1_000, overhead=300))
    # 700 bytes of room: 7 records of 100 bytes each.
    assert [len(b) for b in batches] == [7, 7, 7, 4]
    assert all(b.size <= 700 for b in batches)


def test_a_record_larger_than_a_call_is_refused() -> None:
    batcher: Batcher[int] = Batcher(300, 1_000, overhead=100)
    assert batcher.fits(b"z" * 900)
    assert not batcher.fits(b"z" * 901)
    with pytest.raises(ValueError, match="larger"):
        batcher.add(b"z" * 901, 0)


def test_batches_of_one() -> None:
    assert [len(b) for b in split([(b"a", 0), (b"b", 1)], max_records=1)] == [1, 1]


# -- rate budget ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_budget_is_a_sliding_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, 20, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        assert limiter.acquire() == 0
        clock.now += 0.1  # 100 calls over 10 s
    waited = limiter.acquire()  # the 101st waits until the first leaves the window
    assert waited == pytest.approx(10.0)
    assert clock.now == pytest.approx(1020.0)


def test_rate_budget_pause_holds_everyone() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, 1, clock=clock, sleep=clock.sleep)
    limiter.pause(3)
    assert limiter.acquire() == pytest.approx(3)


@pytest.mark.parametrize(("text", "expected"), [("100/20", (100, 20.0)), ("5/1s", (5, 1.0))])
def test_rate_budget_parses(text: str, expected: tuple[int, float]) -> None:
    limiter = RateLimiter.parse(text)
    assert limiter is not None
    assert (limiter.calls, limiter.per) == expected


def test_rate_budget_none_and_nonsense() -> None:
    assert RateLimiter.parse("none") is None
    with pytest.raises(ValueError, match="100/20"):
        RateLimiter.parse("fast")


def test_datetimes_are_sent_as_iso() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert envelopes.attr_text(moment) == "2024-01-02T03:04:05+00:00"
