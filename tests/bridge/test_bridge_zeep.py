"""zeep's syncMultipleLeads tests (tests/wire/test_zeep_client.py), unchanged, through a real
bridge process; they read the leads from the upstream's database. The ones that fail
through the bridge are each a difference listed in docs/bridge.md."""

from __future__ import annotations

import pytest

from support import Server
from wire.test_zeep_client import (  # noqa: F401
    client,
    test_zeep_bad_signature_is_a_fault_20014,
    test_zeep_id_with_the_leads_own_foreign_id_updates,
    test_zeep_two_records_reaching_one_lead_by_different_keys,
    test_zeep_unknown_attribute_is_a_fault_20105,
)
from wire.test_zeep_client import (
    test_zeep_creates_then_updates_several_leads as _casing,
)
from wire.test_zeep_client import (
    test_zeep_dedup_disabled_creates_duplicates as _dedup,
)
from wire.test_zeep_client import (
    test_zeep_keys_and_record_level_failure as _keys,
)


@pytest.fixture(scope="module")
def server(bridge_process: Server) -> Server:
    return bridge_process


test_zeep_dedup_disabled_creates_duplicates = pytest.mark.xfail(
    strict=True, reason="docs/bridge.md: an email shared by several leads (1007)"
)(_dedup)
test_zeep_keys_and_record_level_failure = pytest.mark.xfail(
    strict=True, reason="docs/bridge.md: ForeignSysPersonId lives in a custom field upstream"
)(_keys)
test_zeep_creates_then_updates_several_leads = pytest.mark.xfail(
    strict=True, reason="docs/bridge.md: the email's case as last sent"
)(_casing)
