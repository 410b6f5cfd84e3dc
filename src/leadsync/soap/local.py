"""syncMultipleLeads run in this process, for ``leadsync leads import``: the ``<leadRecord>``
fragments a push builds are read and synced exactly as the endpoint reads and syncs them,
without HTTP, signing or a server, and the statuses come back as a client's results.

It stands in for ``leadsync.client.Client`` where the push engine sends its batches
(``client.push.BatchSender``), so an import keeps every rule of a push: the same row checks,
results and rejects files, journal and resume.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from leadsync.client.batching import MAX_BYTES, MAX_RECORDS, Batch, Batcher
from leadsync.client.errors import MktowsFault
from leadsync.client.models import FieldInfo, SyncResult, SyncStatus
from leadsync.config import Settings
from leadsync.errors import MarketoError
from leadsync.mktows import xml
from leadsync.operations.describe import describe
from leadsync.operations.fields import catalogue_of
from leadsync.operations.sync import SyncOptions, sync_leads
from leadsync.soap.record_reader import read_lead_records
from leadsync.store.base import Store

T = TypeVar("T")


class LocalSync:
    def __init__(
        self, store: Store, settings: Settings, *, name: str, batch_size: int = MAX_RECORDS
    ) -> None:
        self.store = store
        self.settings = settings
        #: How errors name where the records went (a client names its endpoint).
        self.endpoint = name
        self.batch_size = min(batch_size, settings.max_records_per_call or batch_size)

    def waiting(self) -> str | None:
        return None  # no budget, no retries: nothing ever holds an import back

    def batcher(self) -> Batcher[Any]:
        return Batcher(self.batch_size, MAX_BYTES, 0)

    def lead_fields(self) -> list[FieldInfo]:
        """The lead fields as describeMObject(LeadRecord) reports them."""
        meta = describe(catalogue_of(self.store.custom_fields()), "LeadRecord")
        return [
            FieldInfo(
                name=f.name,
                data_type=f.data_type,
                display_name=f.display_name,
                description=f.description,
                size=f.size,
                is_readonly=f.is_readonly,
                is_update_blocked=f.is_update_blocked,
                is_custom=f.is_custom,
            )
            for f in meta.fields
        ]

    def sync_batches(
        self,
        batches: Iterable[Batch[T]],
        dedup: bool = True,
        *,
        stop: threading.Event | None = None,
    ) -> Iterator[tuple[Batch[T], list[SyncResult]]]:
        """Sync each batch in turn, as one syncMultipleLeads call each; a call-level fault
        stops here as it stops a push."""
        settings = self.settings
        options = SyncOptions(
            operation="syncMultipleLeads",
            dedup=dedup,
            write_key_email=settings.sync_multiple_writes_key_email,
            unknown_attributes=settings.unknown_attributes,
        )
        catalogue = catalogue_of(self.store.custom_fields())
        for batch in batches:
            try:
                data = b"".join((b"<leadRecordList>", *batch.records, b"</leadRecordList>"))
                record_list = xml.parse(data)
                records = read_lead_records(record_list, catalogue)
                result = sync_leads(self.store, catalogue, records, options)
            except MarketoError as error:
                raise MktowsFault(error.code, f"{error.code} - {error.short}", str(error)) from None
            yield (
                batch,
                [
                    SyncResult(SyncStatus(s.status.value), s.lead_id, s.error, 1)
                    for s in result.statuses
                ],
            )
            if stop is not None and stop.is_set():
                return
