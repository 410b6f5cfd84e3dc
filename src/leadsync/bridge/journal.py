"""The journal of bridged calls: time, SOAP user, operation, records, the upstream's request
ids, per-record outcome counts, the upstream codes seen and the duration of each call.

An entry is written when its call ends; entries older than ``bridge_journal_days`` are
deleted at most once an hour, by whichever process writes then.
"""

from __future__ import annotations

import logging
import threading

from leadsync.clock import Clock
from leadsync.config import Settings
from leadsync.store.bridge import BridgeStore, JournalEntry

log = logging.getLogger("leadsync.bridge")
DAY_MS = 86_400_000
_TRIM_EVERY_S = 3600.0


class Journal:
    def __init__(self, store: BridgeStore, settings: Settings, clock: Clock) -> None:
        self._store = store
        self._keep_days = settings.bridge_journal_days
        self._clock = clock
        self._trim_due = 0.0
        self._lock = threading.Lock()

    def add(self, entry: JournalEntry) -> None:
        # The call's answer must not depend on its journal entry.
        try:
            self._store.add_journal(entry)
            self._trim()
        except Exception:
            log.exception("could not journal a bridged %s call", entry.operation)

    def _trim(self) -> None:
        if not self._keep_days:
            return
        with self._lock:
            now = self._clock.monotonic()
            if now < self._trim_due:
                return
            self._trim_due = now + _TRIM_EVERY_S
        before = int(self._clock.now().timestamp() * 1000) - self._keep_days * DAY_MS
        self._store.trim_journal(before)
