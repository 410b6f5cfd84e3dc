"""Reads that never come back short: getMultipleLeads with any number of keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from client.faultproxy import FaultProxy
from client.helpers import fast_client, leads
from leadsync.client import LastUpdateAtSelector, LeadKeySelector, ProtocolError
from support import Server


@pytest.mark.parametrize("count", [1000, 10_000])
def test_every_key_is_read_in_calls_of_at_most_100(
    server: Server, proxy: FaultProxy, prefix: str, count: int
) -> None:
    records = leads(prefix, count)
    emails = [str(r["Email"]) for r in records]
    with fast_client(proxy.endpoint(), server, batch_size=1000) as client:
        client.sync_multiple_leads(records)
        found = list(client.get_multiple_leads(LeadKeySelector("EMAIL", tuple(emails))))
    assert sorted(lead.email or "" for lead in found) == sorted(emails)
    assert len({lead.id for lead in found}) == count
    assert max(proxy.read_keys, default=0) == 100
    assert sum(proxy.read_keys) == count


def test_a_lead_found_by_several_keys_comes_back_once(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    records = leads(prefix, 150)
    emails = [str(r["Email"]) for r in records]
    # The same leads again, in other cases, so they fall into other calls than the first.
    keys = (*emails, *(e.upper() for e in emails), emails[0])
    with fast_client(proxy.endpoint(), server) as client:
        client.sync_multiple_leads(records)
        found = list(client.get_multiple_leads(LeadKeySelector("EMAIL", keys)))
    assert sorted(lead.email or "" for lead in found) == sorted(emails)


def test_remaining_leads_without_a_position_are_an_error(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    records = leads(prefix, 25)
    emails = tuple(str(r["Email"]) for r in records)
    proxy.rewrite = lambda body: re.sub(
        rb"<newStreamPosition>[^<]*</newStreamPosition>", b"<newStreamPosition/>", body
    )
    with fast_client(proxy.endpoint(), server) as client:
        client.sync_multiple_leads(records)
        pages = client.get_multiple_leads(LeadKeySelector("EMAIL", emails), batch_size=10)
        with pytest.raises(ProtocolError, match=r"15 more lead.* no stream position"):
            list(pages)


def test_a_window_wider_than_the_server_allows_is_read_in_parts(
    server: Server, proxy: FaultProxy, prefix: str
) -> None:
    records = leads(prefix, 30)
    now = datetime.now(UTC)
    # 95 days: the server refuses more than 30 at once (20022), so the client splits it.
    window = LastUpdateAtSelector(now - timedelta(days=95), now + timedelta(minutes=5))
    with fast_client(proxy.endpoint(), server) as client:
        client.sync_multiple_leads(records)
        found = list(client.get_multiple_leads(window, batch_size=1000))
    mine = sorted(lead.email or "" for lead in found if (lead.email or "").startswith(prefix))
    assert mine == sorted(str(r["Email"]) for r in records)
    assert len({lead.id for lead in found}) == len(found)
