"""suds' syncMultipleLeads tests (tests/wire/test_suds_client.py), unchanged, through a real
bridge process; differences are listed in docs/bridge.md."""

from __future__ import annotations

import pytest

from support import Server
from wire.test_suds_client import (  # noqa: F401
    client,
    test_suds_bad_signature_raises_webfault_20014,
    test_suds_creates_then_updates_several_leads,
    test_suds_dedup_disabled_creates_a_duplicate,
    test_suds_unknown_attribute_raises_webfault_20105,
)


@pytest.fixture(scope="module")
def server(bridge_process: Server) -> Server:
    return bridge_process
