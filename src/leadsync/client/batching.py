"""Splitting records into calls: at most ``max_records`` each, and at most ``max_bytes`` of
XML once the envelope is around them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

#: Marketo's documented ceiling for syncMultipleLeads (docs/compatibility.md, "syncMultipleLeads").
MAX_RECORDS = 300
#: One megabyte of XML per call: large calls were the ones Marketo timed out or throttled.
MAX_BYTES = 1_000_000


@dataclass(slots=True)
class Batch(Generic[T]):
    """Serialised ``<leadRecord>`` fragments and, for each, the caller's tag."""

    seq: int
    records: list[bytes] = field(default_factory=list)
    tags: list[T] = field(default_factory=list)
    size: int = 0

    def __len__(self) -> int:
        return len(self.records)


class Batcher(Generic[T]):
    """Fills batches in input order; ``add`` hands back a batch as soon as it is full."""

    def __init__(
        self, max_records: int = MAX_RECORDS, max_bytes: int = MAX_BYTES, overhead: int = 0
    ):
        if max_records < 1:
            raise ValueError("a batch holds at least one record")
        if max_bytes <= overhead:
            raise ValueError("max_bytes leaves no room for records")
        self.max_records = max_records
        self.budget = max_bytes - overhead
        self._seq = 0
        self._current: Batch[T] = Batch(0)

    def fits(self, record: bytes) -> bool:
        """Whether ``record`` can travel at all: alone in a call, within the byte limit."""
        return len(record) <= self.budget

    def add(self, record: bytes, tag: T) -> Batch[T] | None:
        if not self.fits(record):
            raise ValueError("record is larger than a whole call may be")
        full: Batch[T] | None = None
        current = self._current
        if current.records and current.size + len(record) > self.budget:
            full = self._next()
            current = self._current
        current.records.append(record)
        current.tags.append(tag)
        current.size += len(record)
        if len(current.records) >= self.max_records:
            # Only reachable with a fresh batch when max_records is 1, where no byte split
            # can have happened, so at most one batch is ever handed back.
            assert full is None
            full = self._next()
        return full

    def flush(self) -> Batch[T] | None:
        """The partly filled batch, if any."""
        return self._next() if self._current.records else None

    def _next(self) -> Batch[T]:
        done = self._current
        self._seq += 1
        self._current = Batch(self._seq)
        return done


def split(
    records: Iterable[tuple[bytes, T]],
    max_records: int = MAX_RECORDS,
    max_bytes: int = MAX_BYTES,
    overhead: int = 0,
) -> Iterator[Batch[T]]:
    """Batches over ``(record, tag)`` pairs, lazily."""
    batcher: Batcher[T] = Batcher(max_records, max_bytes, overhead)
    for record, tag in records:
        full = batcher.add(record, tag)
        if full is not None:
            yield full
    last = batcher.flush()
    if last is not None:
        yield last
