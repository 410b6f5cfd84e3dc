"""Usage counts written in batches, so that counting a call never waits for the database.

Every call adds to its user's usage when it ends (docs/limits.md). Written one by one, each
count is a write transaction of its own; on SQLite that means queueing for the database's
single write lock behind the next call's whole write, which idles the worker that has
already finished its call. Counts only report usage (the limits are enforced from counters
written when a call is admitted), so they can wait: they are summed in memory and written
in one transaction about twice a second by a thread of their own, and before anything in
this process reads them. Another process sees them within ``interval``; a process killed
with -9 loses at most that last interval's counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from leadsync.flushing import FlushThread
from leadsync.store.control import UsageCount

log = logging.getLogger("leadsync.limits")
#: Seconds between two writes of the counts waiting.
INTERVAL_S = 0.5

_Key = tuple[str, int, int, int, str]


class UsageBatch:
    """Sums counts from any thread; ``write`` stores a batch in one transaction."""

    def __init__(
        self, write: Callable[[Sequence[UsageCount]], None], *, interval: float = INTERVAL_S
    ) -> None:
        self._write = write
        self._pending: dict[_Key, UsageCount] = {}
        self._lock = threading.Lock()
        # One writer at a time, so that a read's flush sees every count written before it.
        self._flush_lock = threading.Lock()
        self._thread = FlushThread(self.flush, name="leadsync-usage", interval=interval)

    def add(self, count: UsageCount) -> None:
        key = (count.user_id, count.day, count.rejected, count.error, count.service)
        with self._lock:
            self._merge({key: count})
        if not self._thread.wake():
            self.flush()  # closed: nothing else will write it

    def flush(self) -> bool:
        """Write every count added so far. A failed write keeps them for the next one."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return True
            try:
                self._write(list(batch.values()))
            except Exception as exc:
                with self._lock:
                    self._merge(batch)
                log.warning("usage counts of %d users not written yet: %s", len(batch), exc)
                return False
            return True

    def close(self) -> None:
        """Stop the thread and write what is left (before the store closes)."""
        self._thread.close()

    def _merge(self, counts: dict[_Key, UsageCount]) -> None:
        for key, count in counts.items():
            waiting = self._pending.get(key)
            self._pending[key] = count if waiting is None else _sum(waiting, count)


def _sum(a: UsageCount, b: UsageCount) -> UsageCount:
    return replace(
        a, calls=a.calls + b.calls, records=a.records + b.records, times=a.times + b.times
    )
