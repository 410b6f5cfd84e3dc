"""Same-key writes of concurrent calls, one after another (in one process).

Marketo warns that two concurrent upserts on one key may make two leads (spec §9.2, rule 7).
Within a SOAP call the bridge sends its groups in order; across the calls one process works
on at once, a write holds every key it names (``email``, the foreign-id field's value,
``id``) while it is upstream, and a write naming one of them waits. A write takes all its
keys at once or none, so two writes never wait for each other. Workers of ``--workers`` and
other hosts are separate processes: they are not ordered (docs/bridge.md, the differences).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterable, Iterator

Key = tuple[str, str]


class KeyLocks:
    def __init__(self) -> None:
        #: The keys of the writes upstream now.
        self._held: set[Key] = set()
        #: The keys of the writes waiting for one of them.
        self._waiting: Counter[Key] = Counter()
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def holding(self, keys: Iterable[Key]) -> Iterator[None]:
        """Hold every key of ``keys``, once no other write holds any of them."""
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
            yield
        finally:
            with self._changed:
                self._held -= wanted
                self._changed.notify_all()

    def users(self, key: Key) -> int:
        """Writes holding or waiting for ``key``."""
        with self._changed:
            return int(key in self._held) + self._waiting[key]
