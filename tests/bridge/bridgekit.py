"""Helpers the bridge tests share (a module of its own: ``conftest`` is a name every test
folder uses, so importing from it picks whichever came first)."""

from __future__ import annotations

import dataclasses
from typing import Any

from leadsync.bridge.service import Bridge
from leadsync.store.bridge import JournalEntry
from leadsync.testing import LeadsyncServer

#: The upstream's custom field that holds ForeignSysPersonId.
FOREIGN_FIELD = "foreignId"


def bridge_settings(upstream: LeadsyncServer, **settings: Any) -> dict[str, Any]:
    """``Settings`` fields for a bridge in front of ``upstream``."""
    return {
        "upstream_url": upstream.base_url,
        "upstream_client_id": upstream.client_id,
        "upstream_client_secret": upstream.client_secret,
        "upstream_foreign_id_field": FOREIGN_FIELD,
        "upstream_wait_seconds": 5,
        **settings,
    }


def on_upstream(endpoint: Any, upstream: LeadsyncServer) -> Any:
    """``endpoint`` with the upstream's database as its ``database_url``: tests written for
    a local server read what the bridge wrote where it went."""
    return dataclasses.replace(endpoint, database_url=upstream.database_url)


def journal(app: Any) -> list[JournalEntry]:
    """The journal of the in-process bridge ``app`` (an ``AppServer``), every entry of the
    calls it answered written (entries are written in the background)."""
    bridge = app.http.app.state.bridge
    assert isinstance(bridge, Bridge)
    assert bridge.journal.flush()
    return app.store.bridge().journal()
