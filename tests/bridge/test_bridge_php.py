"""Marketo's PHP sample for syncMultipleLeads, unmodified (tests/wire/test_php_sample.py),
against a bridge whose upstream is a second leadsync: the leads appear upstream, and a
second run gives UPDATED."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FOREIGN_FIELD, on_upstream
from leadsync.testing import LeadsyncServer
from support import Server, running_server
from wire.conftest import php  # noqa: F401
from wire.test_php_sample import (  # noqa: F401
    test_php_sample_creates_then_updates_the_two_leads,
)


@pytest.fixture
def fresh_server(upstream: LeadsyncServer, tmp_path: Path) -> Iterator[Server]:
    flags = [
        *("--upstream", upstream.base_url, "--upstream-client-id", upstream.client_id),
        *("--upstream-client-secret", upstream.client_secret, "--foreign-id-field", FOREIGN_FIELD),
    ]
    with running_server(tmp_path, *flags) as srv:
        yield on_upstream(srv, upstream)
