"""Keeps the calls history (store/calls.py) without slowing the calls it records.

A call only appends its entry to an in-memory queue; a thread of the history's own writes the
queue to the store in one transaction about once a second, and trims the table to the newest
``keep`` entries. The queue is bounded: when the store cannot keep up (or is down), the
oldest waiting entries are dropped, never the call. A process that dies loses at most the last
second of history, which is what a history is for.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

import orjson

from leadsync.flushing import FlushThread
from leadsync.model import RecordStatus, SyncOutcome
from leadsync.store.base import Store
from leadsync.store.calls import CallEntry

log = logging.getLogger("leadsync.calls")
#: Failed records listed by name in a call's summary; the rest are only counted.
MAX_FAILURES_LISTED = 20
#: Longest fault message kept in a summary.
MAX_MESSAGE_CHARS = 500


def failure_summary(statuses: Sequence[RecordStatus]) -> str:
    """The summary of a call whose records did not all succeed: each failed record's position
    in the request, lead id and reason, the first ``MAX_FAILURES_LISTED`` of them."""
    failures = [
        {"index": index, "lead_id": status.lead_id, "error": status.error or ""}
        for index, status in enumerate(statuses)
        if status.status is SyncOutcome.FAILED
    ]
    listed = failures[:MAX_FAILURES_LISTED]
    summary: dict[str, object] = {"failures": listed}
    if len(failures) > len(listed):
        summary["more_failures"] = len(failures) - len(listed)
    return orjson.dumps(summary).decode()


def fault_summary(message: str) -> str:
    return orjson.dumps({"fault": message[:MAX_MESSAGE_CHARS]}).decode()


class CallHistory:
    """Collects entries from any thread and writes them to ``store`` in the background."""

    def __init__(
        self,
        store: Store,
        keep: int,
        *,
        interval: float = 1.0,
        max_pending: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.keep = keep
        self._pending: deque[CallEntry] = deque(maxlen=max_pending)
        self._clock = clock
        self._flush_lock = threading.Lock()
        self._thread = FlushThread(
            self._write_waiting, name="leadsync-call-history", interval=interval
        )

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def add(self, entry: CallEntry) -> None:
        # deque.append is atomic; a full deque drops its oldest entry.
        self._pending.append(entry)
        self._thread.wake()

    def flush(self) -> int:
        """Write what is waiting now; returns how many entries were written."""
        with self._flush_lock:
            batch: list[CallEntry] = []
            while self._pending:
                try:
                    batch.append(self._pending.popleft())
                except IndexError:
                    break
            if not batch:
                return 0
            try:
                self._store.calls().record(batch, self.keep)
            except Exception as exc:
                log.warning("calls history: %d entries not written: %s", len(batch), exc)
                return 0
            return len(batch)

    def close(self) -> None:
        """Stop the thread and write what is left (before the store is closed)."""
        self._thread.close()

    def _write_waiting(self) -> bool:
        self.flush()
        return True  # a failed write drops its entries (logged): a history is no ledger
