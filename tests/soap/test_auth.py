"""Authentication: signature, unknown users, the timestamp window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadsync.mktows.signing import parse_timestamp, sign
from support import (
    DEMO_KEY,
    DEMO_USER,
    REPO,
    Server,
    envelope,
    fault,
    lead_record,
    statuses,
    sync_params,
)

# Signatures printed in Marketo's documentation examples.
DOC_VECTORS = [
    ("2013-08-01T18:22:30-07:00", "b5e21953ae9f1b263e644da5eccce9ff33802513"),
    ("2013-08-02T15:47:06-07:00", "146ec93f4f1e2a45f7a545f7e42e2d053c0457e7"),
    ("2013-08-05T11:01:07-07:00", "d27074cb49414b3410fd7ab58b5945c3e86d28d4"),
    ("2013-08-20T13:32:02-07:00", "cdea055214cc726b651dc44ef694e1db4babfcb1"),
    ("2013-07-31T12:38:47-07:00", "92f05a6be4838ae1c0e5aafe814891ee72968a08"),
    ("2013-07-30T14:15:06-07:00", "1e090894f40ac2c01c2b7d215ac6d4eae80bd5ac"),
]


@pytest.mark.parametrize(("timestamp", "signature"), DOC_VECTORS)
def test_docs_signatures_verify(timestamp: str, signature: str) -> None:
    assert sign(DEMO_KEY, timestamp, DEMO_USER) == signature


def _header(user: str, signature: str, timestamp: str) -> str:
    return (
        f"<ns1:AuthenticationHeader><mktowsUserId>{user}</mktowsUserId>"
        f"<requestSignature>{signature}</requestSignature>"
        f"<requestTimestamp>{timestamp}</requestTimestamp></ns1:AuthenticationHeader>"
    )


def _call(server: Server, header: str, email: str) -> object:
    return server.post(
        envelope("syncMultipleLeads", sync_params([lead_record(email)]), header=header)
    )


def _ts(delta: timedelta = timedelta(0), tz: timedelta = timedelta(0)) -> str:
    from datetime import timezone

    return (datetime.now(UTC) + delta).astimezone(timezone(tz)).isoformat(timespec="seconds")


@pytest.mark.parametrize(
    "timestamp",
    [
        _ts(tz=timedelta(hours=-8)),  # PHP's sample signs Los Angeles time
        _ts(tz=timedelta(hours=5, minutes=30)),
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.123+00:00"),
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S +0000"),  # Ruby's Time#to_s
    ],
)
def test_any_offset_a_client_sends_is_accepted(server: Server, timestamp: str) -> None:
    header = _header(DEMO_USER, sign(DEMO_KEY, timestamp, DEMO_USER), timestamp)
    response = server.post(
        envelope(
            "syncMultipleLeads",
            sync_params([lead_record(f"auth-ok-{hash(timestamp)}@x.com")]),
            header=header,
        )
    )
    assert [s.status for s in statuses(response)] == ["CREATED"]


def test_signature_hex_is_case_insensitive(server: Server) -> None:
    ts = _ts()
    header = _header(DEMO_USER, sign(DEMO_KEY, ts, DEMO_USER).upper(), ts)
    response = server.post(
        envelope("syncMultipleLeads", sync_params([lead_record("upperhex@x.com")]), header=header)
    )
    assert statuses(response)[0].status == "CREATED"


def test_bad_signature_and_unknown_user_get_the_same_answer(server: Server) -> None:
    ts = _ts()
    bad_sig = fault(_call(server, _header(DEMO_USER, "0" * 40, ts), "bad@x.com"))  # type: ignore[arg-type]
    unknown = fault(
        _call(server, _header("nobody", sign(DEMO_KEY, ts, "nobody"), ts), "bad@x.com")  # type: ignore[arg-type]
    )
    assert bad_sig.code == unknown.code == 20014
    assert (bad_sig.faultstring, bad_sig.message) == (unknown.faultstring, unknown.message)
    assert bad_sig.faultstring == "20014 - Authentication failed"
    assert bad_sig.faultcode == "SOAP-ENV:Client"


def test_signature_covers_the_literal_timestamp(server: Server) -> None:
    signed = _ts()
    sent = signed.replace("+00:00", "Z")
    header = _header(DEMO_USER, sign(DEMO_KEY, signed, DEMO_USER), sent)
    assert fault(_call(server, header, "literal@x.com")).code == 20014  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "delta", [timedelta(minutes=-16), timedelta(minutes=16), timedelta(days=-400)]
)
def test_timestamp_outside_the_window_is_expired(server: Server, delta: timedelta) -> None:
    ts = _ts(delta)
    header = _header(DEMO_USER, sign(DEMO_KEY, ts, DEMO_USER), ts)
    got = fault(_call(server, header, "expired@x.com"))  # type: ignore[arg-type]
    assert got.code == 20016
    assert got.faultstring == "20016 - Request Expired"


def test_timestamp_inside_the_window_is_accepted(server: Server) -> None:
    ts = _ts(timedelta(minutes=-14))
    header = _header(DEMO_USER, sign(DEMO_KEY, ts, DEMO_USER), ts)
    assert statuses(_call(server, header, "window@x.com"))[0].status == "CREATED"  # type: ignore[arg-type]


def test_missing_header_is_authentication_failed(server: Server) -> None:
    got = fault(_call(server, "", "noheader@x.com"))  # type: ignore[arg-type]
    assert got.code == 20014


def test_docs_example_verbatim_is_accepted_with_a_wide_window(lenient_server: Server) -> None:
    # Marketo's documented syncMultipleLeads request, byte for byte (signed in 2013).
    request = (REPO / "tests/data/doc_sync_multiple_leads_request.xml").read_bytes()
    first = statuses(lenient_server.post(request))
    assert [s.status for s in first] == ["CREATED", "CREATED"]
    again = statuses(lenient_server.post(request))
    assert [s.status for s in again] == ["UPDATED", "UPDATED"]
    assert [s.lead_id for s in again] == [s.lead_id for s in first]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-08-01T18:22:30-07:00", datetime(2013, 8, 2, 1, 22, 30, tzinfo=UTC)),
        ("2013-08-01T18:22:30Z", datetime(2013, 8, 1, 18, 22, 30, tzinfo=UTC)),
        ("2013-08-01T18:22:30.5+0200", datetime(2013, 8, 1, 16, 22, 30, 500000, tzinfo=UTC)),
        ("2015-07-01 00:00:00 +0000", datetime(2015, 7, 1, tzinfo=UTC)),
        ("not a time", None),
    ],
)
def test_parse_timestamp(text: str, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected
