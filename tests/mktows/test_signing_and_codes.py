"""The kit's signing and fault-code catalogue, and what importing the kit costs."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from leadsync import errors
from leadsync.mktows.codes import FATAL, RETRYABLE, FaultCode
from leadsync.mktows.signing import (
    parse_timestamp,
    sign,
    signature_matches,
    signed_header,
    timestamp,
)

USER = "demo17_1_809934544BFABAE58E5D27"
KEY = "27272727aa"


def test_a_signature_is_checked_in_any_case_and_with_blanks_around() -> None:
    stamp = "2013-08-01T18:22:30-07:00"
    good = sign(KEY, stamp, USER)
    assert good == "b5e21953ae9f1b263e644da5eccce9ff33802513"
    assert signature_matches(KEY, stamp, USER, good)
    assert signature_matches(KEY, stamp, USER, f"  {good.upper()}\n")
    assert not signature_matches(KEY, stamp, USER, good[:-1])
    assert not signature_matches(KEY, stamp + " ", USER, good)
    assert not signature_matches("other", stamp, USER, good)
    assert not signature_matches(KEY, stamp, USER, "é" * 40)


def test_a_signed_header_is_signed_over_its_own_timestamp() -> None:
    moment = datetime(2024, 2, 29, 23, 59, 58, 999, tzinfo=UTC)
    stamp, signature = signed_header(USER, KEY, moment)
    assert stamp == timestamp(moment) == "2024-02-29T23:59:58+00:00"
    assert signature_matches(KEY, stamp, USER, signature)
    assert parse_timestamp(stamp) == moment.replace(microsecond=0)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2013-08-01T18:22:30-07:00", datetime(2013, 8, 2, 1, 22, 30, tzinfo=UTC)),
        ("2015-07-01 00:00:00 +0000", datetime(2015, 7, 1, tzinfo=UTC)),
        ("2015-07-01T00:00Z", datetime(2015, 7, 1, tzinfo=UTC)),
        ("2015-07-01T00:00:00.1234567891+01", datetime(2015, 6, 30, 23, 0, 0, 123456, UTC)),
        ("yesterday", None),
        ("2015-13-01T00:00:00Z", None),
    ],
)
def test_timestamps_are_read_in_every_shape_clients_send(
    text: str, instant: datetime | None
) -> None:
    assert parse_timestamp(text) == instant


def test_every_code_has_one_server_error_with_its_name_and_side() -> None:
    assert sorted(errors.CATALOGUE) == sorted(int(code) for code in FaultCode)
    for code in FaultCode:
        error = errors.error_for_code(code)
        assert error.code == code
        assert error.faultstring == f"{int(code)} - {code.title}"
        assert error.server_side is code.server_side
    assert errors.BadParameter.short == "Input error"
    assert FaultCode.CONCURRENCY_LIMIT_EXCEEDED.server_side
    assert not FaultCode.REQUEST_NOT_UNDERSTOOD.server_side
    assert FATAL.isdisjoint(RETRYABLE)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_kit_stands_alone() -> None:
    loaded = _modules_after(
        "import leadsync.mktows.xml, leadsync.mktows.escaping, leadsync.mktows.signing,"
        " leadsync.mktows.codes, leadsync.mktows.ns"
    )
    leadsync = sorted(m for m in loaded if m.startswith("leadsync."))
    assert all(m.startswith("leadsync.mktows") for m in leadsync), leadsync
    assert not {"starlette", "psycopg", "uvicorn", "httpx"} & loaded


def test_signing_codes_and_namespaces_need_no_lxml() -> None:
    # The pytest plugin signs with the kit and is imported into every pytest session.
    loaded = _modules_after(
        "import leadsync.mktows.signing, leadsync.mktows.codes, leadsync.mktows.ns,"
        " leadsync.testing"
    )
    assert "lxml" not in loaded
    assert "lxml.etree" not in loaded
