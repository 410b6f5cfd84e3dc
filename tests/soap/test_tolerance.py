"""What real clients send (issue: tolerance): prefixes, namespaces, headers, booleans, case."""

from __future__ import annotations

import pytest

from leadsync.mktows.signing import sign
from support import DEMO_KEY, DEMO_USER, MKTOWS, SOAP_ENV, Server, now_timestamp, statuses


def _signed() -> tuple[str, str]:
    ts = now_timestamp()
    return ts, sign(DEMO_KEY, ts, DEMO_USER)


def test_other_prefixes_and_namespaces_declared_on_elements(server: Server) -> None:
    ts, sig = _signed()
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">
  <soapenv:Header>
    <mkt:AuthenticationHeader xmlns:mkt="{MKTOWS}" soapenv:mustUnderstand="1">
      <mktowsUserId>{DEMO_USER}</mktowsUserId>
      <requestSignature>{sig}</requestSignature>
      <requestTimestamp>{ts}</requestTimestamp>
    </mkt:AuthenticationHeader>
  </soapenv:Header>
  <soapenv:Body>
    <tns:paramsSyncMultipleLeads xmlns:tns="{MKTOWS}">
      <leadRecordList>
        <leadRecord>
          <leadAttributeList>
            <attribute>
              <attrValue>Acme</attrValue>
              <attrName>Company</attrName>
            </attribute>
          </leadAttributeList>
          <Email>  prefixes@example.com  </Email>
        </leadRecord>
      </leadRecordList>
      <dedupEnabled> true </dedupEnabled>
    </tns:paramsSyncMultipleLeads>
  </soapenv:Body>
</soapenv:Envelope>"""
    assert [s.status for s in statuses(server.post(body))] == ["CREATED"]


def test_default_namespace_and_qualified_children(server: Server) -> None:
    ts, sig = _signed()
    body = (
        f'<Envelope xmlns="{SOAP_ENV}"><Header>'
        f'<AuthenticationHeader xmlns="{MKTOWS}"><mktowsUserId>{DEMO_USER}</mktowsUserId>'
        f"<requestSignature>{sig}</requestSignature><requestTimestamp>{ts}</requestTimestamp>"
        f"</AuthenticationHeader></Header><Body>"
        f'<paramsSyncMultipleLeads xmlns="{MKTOWS}"><leadRecordList><leadRecord>'
        "<Email>qualified@example.com</Email></leadRecord></leadRecordList>"
        "</paramsSyncMultipleLeads></Body></Envelope>"
    )
    assert [s.status for s in statuses(server.post(body))] == ["CREATED"]


@pytest.mark.parametrize(
    "soap_action",
    [
        None,
        "",
        '"http://www.marketo.com/mktows/syncMultipleLeads"',
        "syncMultipleLeads",
        "whatever",
    ],
)
def test_soapaction_is_not_needed(server: Server, soap_action: str | None) -> None:
    from support import envelope, lead_record, sync_params

    headers = {} if soap_action is None else {"SOAPAction": soap_action}
    email = f"action-{len(soap_action or 'none')}-{soap_action!r}@example.com".replace('"', "")
    body = envelope("syncMultipleLeads", sync_params([lead_record(email)]))
    response = server.post(body, **headers)
    assert statuses(response)[0].status in ("CREATED", "UPDATED")


def test_lower_camel_case_foreign_sys_person_id(server: Server) -> None:
    from support import envelope

    records = (
        "<leadRecord><foreignSysPersonId>camel-1</foreignSysPersonId>"
        "<foreignSysType>CUSTOM</foreignSysType><Email>camel@example.com</Email></leadRecord>"
        "<leadRecord><ForeignSysPersonId>camel-1</ForeignSysPersonId></leadRecord>"
    )
    got = statuses(
        server.post(envelope("syncMultipleLeads", f"<leadRecordList>{records}</leadRecordList>"))
    )
    assert [s.status for s in got] == ["CREATED", "UPDATED"]
    assert got[0].lead_id == got[1].lead_id


def test_nil_elements_are_absent(server: Server) -> None:
    from support import envelope

    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    records = (
        f'<leadRecord xmlns:xsi="{xsi}"><Id xsi:nil="true"/><ForeignSysPersonId xsi:nil="true"/>'
        '<Email>nil@example.com</Email><leadAttributeList xsi:nil="true"/></leadRecord>'
    )
    dedup = f'<dedupEnabled xmlns:xsi="{xsi}" xsi:nil="true"/>'
    params = f"<leadRecordList>{records}</leadRecordList>{dedup}"
    assert statuses(server.post(envelope("syncMultipleLeads", params)))[0].status in (
        "CREATED",
        "UPDATED",
    )


def test_utf8_values_round_trip(server: Server) -> None:
    from support import envelope, lead_record, stored_leads, sync_params

    [s] = statuses(
        server.post(
            envelope(
                "syncMultipleLeads",
                sync_params([lead_record("zoë@example.com", {"City": "Zürich & <Genève>"})]),
            )
        )
    )
    lead = stored_leads(server.database_url, [s.lead_id])[s.lead_id]
    assert (lead.email, lead.values["City"]) == ("zoë@example.com", "Zürich & <Genève>")
