"""Same-key writes of concurrent calls, one after another.

Marketo warns that two concurrent upserts on one key may make two leads (spec §9.2, rule 7).
Within a SOAP call the bridge sends its groups in order; across calls, a write holds every
key it names (``email``, the foreign-id field's value, ``id``) while it is upstream, and a
write naming one of them waits. A write takes all its keys at once or none, so two writes
never wait for each other.

In one process the keys are held in memory. When other processes may bridge for the same
database (``--workers`` above 1, or PostgreSQL, which several hosts share), a write also holds
its keys in the database (``BridgeStore.hold_keys``) and a write of another process naming one
of them polls until they are let go, up to the call's wait (then 20024). A hold whose process
died is taken over at once on its host, and by any host once it runs out.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from leadsync.clock import Clock, epoch_ms
from leadsync.errors import ConcurrencyLimitExceeded, StoreUnavailable
from leadsync.limits.owner import current_owner, is_dead
from leadsync.store.bridge import BridgeStore

Key = tuple[str, str]

#: How often a write waiting for another process's keys looks again (jittered).
_POLL_S = 0.02

log = logging.getLogger("leadsync.bridge")


class SharedHolds:
    """Keys held in the database, seen by every process bridging for it."""

    def __init__(
        self,
        store: BridgeStore,
        clock: Clock,
        hold_ms: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        #: How long a hold lasts if its process can't free it (one on another host).
        self._hold_ms = hold_ms
        self._sleep = sleep

    def take(self, keys: Iterable[Key], deadline: float) -> str:
        """Hold ``keys`` (waiting until ``deadline``, the clock's monotonic time, then
        20024); returns the holder to ``free``."""
        texts = [f"{field}:{value}" for field, value in keys]
        holder = uuid.uuid4().hex
        owner = current_owner()
        while True:
            now_ms = epoch_ms(self._clock)
            if self._store.hold_keys(
                texts, holder, owner, now_ms=now_ms, until_ms=now_ms + self._hold_ms, dead=is_dead
            ):
                return holder
            pause = _POLL_S * random.uniform(0.5, 1.5)
            if self._clock.monotonic() + pause > deadline:
                raise ConcurrencyLimitExceeded(
                    "Concurrency Limit Exceeded: a write naming the same lead is upstream from"
                    " another bridge process; retry later"
                )
            self._sleep(pause)

    def free(self, holder: str) -> None:
        try:
            self._store.free_keys(holder)
        except StoreUnavailable:
            # Taken over when it runs out; meanwhile writes naming these keys wait.
            log.exception("could not let go of the keys of upstream write %s", holder)


class KeyLocks:
    def __init__(self, shared: SharedHolds | None = None) -> None:
        #: The keys of the writes upstream now.
        self._held: set[Key] = set()
        #: The keys of the writes waiting for one of them.
        self._waiting: Counter[Key] = Counter()
        self._changed = threading.Condition()
        self.shared = shared

    @contextlib.contextmanager
    def holding(self, keys: Iterable[Key], deadline: float) -> Iterator[None]:
        """Hold every key of ``keys``, once no other write holds any of them (in another
        process: waiting until ``deadline`` at most)."""
        wanted = set(keys)
        if not wanted:
            yield
            return
        with self._changed:
            if not wanted.isdisjoint(self._held):
                self._waiting.update(wanted)
                try:
                    self._changed.wait_for(lambda: wanted.isdisjoint(self._held))
                finally:
                    self._waiting.subtract(wanted)
                    self._waiting += Counter()  # drops the keys no write waits for
            self._held |= wanted
        try:
            holder = self.shared.take(wanted, deadline) if self.shared else None
            try:
                yield
            finally:
                if self.shared and holder is not None:
                    self.shared.free(holder)
        finally:
            with self._changed:
                self._held -= wanted
                self._changed.notify_all()

    def users(self, key: Key) -> int:
        """Writes of this process holding or waiting for ``key``."""
        with self._changed:
            return int(key in self._held) + self._waiting[key]
