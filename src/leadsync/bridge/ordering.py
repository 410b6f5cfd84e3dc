"""Same-key writes of concurrent calls, one after another (in one process).

Marketo warns that two concurrent upserts on one key may make two leads (spec §9.2, rule 7).
Within a SOAP call the bridge sends its groups in order; across the calls one process works
on at once, a write holds the lock of every key it names (``email``, the foreign-id field's
value, ``id``) while it is upstream, and a write naming one of them waits. Keys are taken in
one order (sorted), so two writes never wait for each other. Workers of ``--workers`` and
other hosts are separate processes: they are not ordered (docs/bridge.md, the differences).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

Key = tuple[str, str]


class _Held:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: Writes holding or waiting for this key; the entry goes when none is left.
        self.users = 0


class KeyLocks:
    def __init__(self) -> None:
        self._table: dict[Key, _Held] = {}
        self._mutex = threading.Lock()

    @contextlib.contextmanager
    def holding(self, keys: Iterable[Key]) -> Iterator[None]:
        """Hold every key of ``keys`` (waiting for the writes that hold one of them)."""
        ordered = sorted(set(keys))
        with self._mutex:
            entries = []
            for key in ordered:
                held = self._table.get(key)
                if held is None:
                    held = self._table[key] = _Held()
                held.users += 1
                entries.append(held)
        taken = 0
        try:
            for held in entries:
                held.lock.acquire()
                taken += 1
            yield
        finally:
            for held in entries[:taken]:
                held.lock.release()
            with self._mutex:
                for key, held in zip(ordered, entries, strict=True):
                    held.users -= 1
                    if not held.users:
                        del self._table[key]

    def users(self, key: Key) -> int:
        """Writes holding or waiting for ``key``."""
        with self._mutex:
            held = self._table.get(key)
            return held.users if held is not None else 0
