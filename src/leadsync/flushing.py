"""The thread that writes what calls leave behind (usage counts, the calls history, the bridge's
journal and freed upstream slots) so that no call waits for a database commit of its own.

Each writer keeps what waits in its own shape (summed, bounded, in order) and says how to
write it; this runs that write on a thread of its own, started on first use: every
``interval`` seconds, or as soon as it is woken when there is no interval, again after
``retry`` seconds when a write fails, and a last time when it is closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: Seconds before a write that failed is tried again.
RETRY_S = 0.5


class FlushThread:
    def __init__(
        self,
        flush: Callable[[], bool],
        *,
        name: str,
        interval: float | None = None,
        retry: float = RETRY_S,
    ) -> None:
        """``flush`` writes what waits and says whether it could."""
        self._flush = flush
        self._name = name
        self._interval = interval
        self._retry = retry
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None

    def wake(self) -> bool:
        """Something waits: start the thread if it is not running and, without an interval,
        have it write now. False once closed (nothing will write it)."""
        with self._lock:
            if self._closed:
                return False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        if self._interval is None:
            self._wake.set()
        return True

    def close(self) -> None:
        """Stop the thread and write what is left (before the store closes)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)
        self._flush()

    def _run(self) -> None:
        failed = False
        while not self._closed:
            # After a failure, the next write comes without waiting for a wake.
            self._wake.wait(self._retry if failed else self._interval)
            self._wake.clear()
            if self._closed:
                return  # close() writes the rest
            failed = not self._flush()
