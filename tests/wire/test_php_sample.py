"""Marketo's PHP sample for syncMultipleLeads, run unmodified by PHP's SoapClient.

``php/sync_multiple_leads.php`` is the sample exactly as the syncMultipleLeads page
publishes it; only the three ``CHANGE ME`` values are filled in, from the environment. The
sample signs Los Angeles time with ``DATE_W3C``, loads the WSDL from ``<endpoint>?WSDL``,
catches any exception with ``var_dump`` and prints the raw request and response, so the
test reads the outcome from what it prints.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from support import DATA, SOAP_ENV, Server, count_leads, stored_leads

SAMPLE = Path(__file__).parent / "php" / "sync_multiple_leads.php"
MKTOWS = "http://www.marketo.com/mktows/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
EMAILS = ["em1000@etestd.marketo.net", "em1001@etestd.marketo.net"]


@dataclass(frozen=True)
class SampleRun:
    stdout: str
    request: etree._Element
    response: etree._Element


def _raw(stdout: str, label: str, until: str | None) -> etree._Element:
    marker = f"RAW {label}:\n"
    assert marker in stdout, stdout
    text = stdout.split(marker, 1)[1]
    if until is not None:
        text = text.split(until, 1)[0]
    return etree.fromstring(text.strip().encode("utf-8"))


def run_sample(php: str, server: Server) -> SampleRun:
    env = {
        **os.environ,
        "LEADSYNC_ENDPOINT": server.endpoint,
        "LEADSYNC_USER_ID": server.user_id,
        "LEADSYNC_ENCRYPTION_KEY": server.key,
    }
    done = subprocess.run(
        # A WSDL cached from an earlier server on the same port must not stand in for ours.
        [php, "-d", "soap.wsdl_cache_enabled=0", str(SAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The sample var_dumps any exception it catches instead of failing.
    assert "SoapFault" not in done.stdout, done.stdout
    assert "Exception" not in done.stdout, done.stdout
    return SampleRun(
        done.stdout,
        _raw(done.stdout, "request", "RAW response:"),
        _raw(done.stdout, "response", None),
    )


def sync_statuses(response: etree._Element) -> list[tuple[int, str]]:
    body = response.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    success = body.find(f"{{{MKTOWS}}}successSyncMultipleLeads")
    assert success is not None, etree.tostring(response)
    found = []
    for status in success.iterfind("result/syncStatusList/syncStatus"):
        error = status.find("error")
        assert error is not None
        assert error.get(XSI_NIL) == "true"
        found.append((int(status.findtext("leadId") or "-1"), status.findtext("status") or ""))
    return found


def test_php_sample_creates_then_updates_the_two_leads(php: str, fresh_server: Server) -> None:
    first = run_sample(php, fresh_server)

    # What the sample sent: its Los Angeles timestamp, signed as published.
    header = first.request.find(f"{{{SOAP_ENV}}}Header/{{{MKTOWS}}}AuthenticationHeader")
    assert header is not None
    assert header.findtext("mktowsUserId") == fresh_server.user_id
    timestamp = header.findtext("requestTimestamp") or ""
    assert timestamp.endswith(("-07:00", "-08:00")), timestamp

    created = sync_statuses(first.response)
    assert [status for _, status in created] == ["CREATED", "CREATED"]
    ids = [lead_id for lead_id, _ in created]
    assert len(set(ids)) == 2

    second = run_sample(php, fresh_server)
    assert sync_statuses(second.response) == [(lead_id, "UPDATED") for lead_id in ids]

    leads = stored_leads(fresh_server.database_url, ids)
    for lead_id, email, uid in zip(ids, EMAILS, (1000, 1001), strict=True):
        lead = leads[lead_id]
        assert lead.email == email
        assert lead.values["Company"] == f"Marketo{uid}"
        assert lead.values["Phone"] == f"650-555-{uid}"
    assert count_leads(fresh_server.database_url) == 2


def test_php_sample_is_the_published_one() -> None:
    """Only the three CHANGE ME lines differ from the page's sample."""
    text = (DATA / "marketo-sync-multiple-leads-page.txt").read_text(encoding="utf-8")
    published = text[text.index("<?php\n") : text.index("\n?>\n") + 4].splitlines()
    ours = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert len(ours) == len(published)
    changed = [(a, b) for a, b in zip(published, ours, strict=True) if a != b]
    assert changed == [
        (
            '$marketoSoapEndPoint = ""; // CHANGE ME',
            "$marketoSoapEndPoint = getenv('LEADSYNC_ENDPOINT'); // CHANGE ME",
        ),
        (
            '$marketoUserId = ""; // CHANGE ME',
            "$marketoUserId = getenv('LEADSYNC_USER_ID'); // CHANGE ME",
        ),
        (
            '$marketoSecretKey = ""; // CHANGE ME',
            "$marketoSecretKey = getenv('LEADSYNC_ENCRYPTION_KEY'); // CHANGE ME",
        ),
    ]
