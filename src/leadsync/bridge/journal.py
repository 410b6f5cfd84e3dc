"""The journal of bridged calls: time, SOAP user, operation, records, the upstream's request
ids, per-record outcome counts, the upstream codes seen and the duration of each call.

A call only appends its entry to an in-memory queue and wakes a thread of the journal's own,
which writes what waits to the store (as the calls history does, call_history.py): a call
never waits for a database commit to be journalled, and under load one write carries the
entries of every call that ended meanwhile. The queue is bounded: when the store cannot keep
up (or is down), the oldest waiting entries are dropped, never the call, and the log says
how many; a failed write is tried again after ``RETRY_S``. A process that dies loses the
entries not written yet; one that stops writes them first (``close``). Entries older than
``bridge_journal_days`` are deleted at most once an hour, by whichever process writes then.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from leadsync.clock import Clock, epoch_ms
from leadsync.config import Settings
from leadsync.flushing import RETRY_S, FlushThread
from leadsync.store.bridge import BridgeStore, JournalEntry

log = logging.getLogger("leadsync.bridge")
DAY_MS = 86_400_000
_TRIM_EVERY_S = 3600.0
#: Entries waiting at most; beyond, the oldest are dropped.
MAX_PENDING = 10_000


class Journal:
    def __init__(
        self,
        store: BridgeStore,
        settings: Settings,
        clock: Clock,
        *,
        retry: float = RETRY_S,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._store = store
        self._keep_days = settings.bridge_journal_days
        self._clock = clock
        self._trim_due = 0.0
        self._lock = threading.Lock()
        self._pending: deque[JournalEntry] = deque()
        self._max_pending = max_pending
        self._dropped = 0
        # One writer at a time, so that a flush returns with every entry added before it
        # written.
        self._flush_lock = threading.Lock()
        self._thread = FlushThread(self.flush, name="leadsync-journal", retry=retry)

    def add(self, entry: JournalEntry) -> None:
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                self._dropped += 1
            self._pending.append(entry)
        if not self._thread.wake():
            self.flush()  # closed: nothing else will write it

    def flush(self) -> bool:
        """Write every entry added so far; False when the store refused (they wait)."""
        with self._flush_lock:
            with self._lock:
                batch = list(self._pending)
                self._pending.clear()
                dropped, self._dropped = self._dropped, 0
            if dropped:
                log.error("%d journal entries dropped: the database did not keep up", dropped)
            written = 0
            try:
                for entry in batch:
                    self._store.add_journal(entry)
                    written += 1
                self._trim()
            except Exception:
                # Kept for the next write, ahead of what came since.
                with self._lock:
                    self._pending.extendleft(reversed(batch[written:]))
                    while len(self._pending) > self._max_pending:
                        self._pending.popleft()
                        self._dropped += 1
                log.exception("could not journal %d bridged calls yet", len(batch) - written)
                return False
        return True

    def close(self) -> None:
        """Stop the thread and write what is left (before the store closes)."""
        self._thread.close()

    def _trim(self) -> None:
        if not self._keep_days:
            return
        with self._lock:
            now = self._clock.monotonic()
            if now < self._trim_due:
                return
            self._trim_due = now + _TRIM_EVERY_S
        before = epoch_ms(self._clock) - self._keep_days * DAY_MS
        self._store.trim_journal(before)
