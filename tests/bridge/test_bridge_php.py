"""Marketo's PHP sample for syncMultipleLeads, unmodified (tests/wire/test_php_sample.py),
against a bridge whose upstream is a second leadsync: the leads appear upstream, and a
second run gives UPDATED."""

from __future__ import annotations

import pytest

from leadsync.testing import LeadsyncServer
from support import Server
from wire.conftest import php  # noqa: F401
from wire.test_php_sample import (  # noqa: F401
    test_php_sample_creates_then_updates_the_two_leads,
)


@pytest.fixture
def fresh_server(upstream: LeadsyncServer, bridge_process: Server) -> Server:
    """The bridge, its upstream emptied."""
    return bridge_process
