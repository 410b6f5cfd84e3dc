"""A Python client for mktows servers (leadsync, or any server that speaks Marketo's SOAP API).

    from leadsync.client import Client

    with Client("http://127.0.0.1:8080/soap/mktows/2_2", user_id, encryption_key) as client:
        for result in client.sync_multiple_leads(rows):
            print(result.status, result.lead_id, result.error)

Imports nothing from the server side of leadsync, so it installs and runs without it.
"""

from __future__ import annotations

import logging

from leadsync.client.batching import MAX_BYTES, MAX_RECORDS, Batch, Batcher
from leadsync.client.client import MAX_CONCURRENCY, Client
from leadsync.client.errors import (
    ClientError,
    EndpointUnreachable,
    MktowsFault,
    ProtocolError,
    SyncAborted,
)
from leadsync.client.models import (
    FieldInfo,
    LastUpdateAtSelector,
    Lead,
    LeadKeySelector,
    StaticListSelector,
    SyncLeadResult,
    SyncResult,
    SyncStatus,
)
from leadsync.client.ratelimit import RateLimiter
from leadsync.mktows.codes import FaultCode
from leadsync.mktows.signing import sign

# A library logs; the application decides where it goes (and nothing leaks to stderr by
# Python's last-resort handler meanwhile).
logging.getLogger("leadsync.client").addHandler(logging.NullHandler())

__all__ = [
    "MAX_BYTES",
    "MAX_CONCURRENCY",
    "MAX_RECORDS",
    "Batch",
    "Batcher",
    "Client",
    "ClientError",
    "EndpointUnreachable",
    "FaultCode",
    "FieldInfo",
    "LastUpdateAtSelector",
    "Lead",
    "LeadKeySelector",
    "MktowsFault",
    "ProtocolError",
    "RateLimiter",
    "StaticListSelector",
    "SyncAborted",
    "SyncLeadResult",
    "SyncResult",
    "SyncStatus",
    "sign",
]
