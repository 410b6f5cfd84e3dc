"""The resume journal of a push: JSON lines next to the results file.

Two kinds of entry follow the opening ``meta`` line:

* ``b`` — a batch the server answered, with each record's outcome; written and fsync'd
  as soon as the answer arrives, whatever its place in the file, so an answered batch is
  never sent again.
* ``c`` — a checkpoint: every record before ordinal ``n`` is in the results file (and, if it
  failed, the rejects file), whose sizes at that moment are ``res`` and ``rej``.

Resuming truncates both files to the last checkpoint, skips the first ``n`` records, and
takes the outcome of any later record from its ``b`` entry instead of sending it again. A
torn last line (a crash mid-write) is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from leadsync.client.models import SyncResult, SyncStatus

VERSION = 1
_LETTER = {
    SyncStatus.CREATED: "C",
    SyncStatus.UPDATED: "U",
    SyncStatus.FAILED: "F",
    SyncStatus.UNKNOWN: "?",
}
_STATUS = {letter: status for status, letter in _LETTER.items()}


class JournalError(Exception):
    """The journal is missing, of another push, or unreadable."""


@dataclass(slots=True)
class Checkpoint:
    records: int = 0
    results_size: int = 0
    rejects_size: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ResumeState:
    meta: dict[str, Any]
    checkpoint: Checkpoint | None
    #: Outcomes of records past the checkpoint, by ordinal.
    known: dict[int, SyncResult]


class Journal:
    def __init__(self, path: str, handle: TextIO) -> None:
        self.path = path
        self._file = handle

    @classmethod
    def create(cls, path: str, meta: dict[str, Any]) -> Journal:
        try:
            handle = open(path, "x", encoding="utf-8")  # noqa: SIM115 - closed by close()
        except FileExistsError:
            raise JournalError(
                f"an unfinished push left {path}: add --resume to continue it, "
                "or delete it to start over"
            ) from None
        journal = cls(path, handle)
        journal._write({"t": "meta", "v": VERSION, **meta}, sync=True)
        return journal

    @classmethod
    def resume(cls, path: str) -> tuple[Journal, ResumeState]:
        try:
            handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115 - closed by close()
        except FileNotFoundError:
            raise JournalError(f"nothing to resume: {path} does not exist") from None
        state = _read(handle, path)
        # Drop a torn tail so new entries start on a line of their own.
        handle.seek(0, os.SEEK_END)
        return cls(path, handle), state

    def batch(self, entries: Sequence[tuple[int, SyncResult]]) -> None:
        """Record answered records durably (before they are reported anywhere else)."""
        errors = {str(i): r.error for i, (_, r) in enumerate(entries) if r.error is not None}
        entry: dict[str, Any] = {
            "t": "b",
            "k": [ordinal for ordinal, _ in entries],
            "s": "".join(_LETTER[r.status] for _, r in entries),
            "i": [r.lead_id for _, r in entries],
            "a": [r.attempts for _, r in entries],
        }
        if errors:
            entry["e"] = errors
        self._write(entry, sync=True)

    def checkpoint(self, checkpoint: Checkpoint) -> None:
        # Not fsync'd on its own: losing one only means resuming from the one before, and
        # the next batch entry's fsync carries it to disk anyway.
        self._write(
            {
                "t": "c",
                "n": checkpoint.records,
                "res": checkpoint.results_size,
                "rej": checkpoint.rejects_size,
                "c": checkpoint.counts,
            },
            sync=False,
        )

    def _write(self, entry: dict[str, Any], *, sync: bool) -> None:
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._file.flush()
        if sync:
            _sync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def remove(self) -> None:
        self.close()
        os.unlink(self.path)


def _read(handle: TextIO, path: str) -> ResumeState:
    meta: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    known: dict[int, SyncResult] = {}
    good_end = 0
    for line in iter(handle.readline, ""):
        if not line.endswith("\n"):
            break  # torn by a crash mid-write
        try:
            entry = json.loads(line)
        except ValueError:
            break
        good_end = handle.tell()
        kind = entry.get("t")
        if kind == "meta":
            meta = entry
        elif kind == "c":
            checkpoint = Checkpoint(entry["n"], entry["res"], entry["rej"], dict(entry["c"]))
            known = {k: r for k, r in known.items() if k >= checkpoint.records}
        elif kind == "b":
            floor = checkpoint.records if checkpoint else 0
            errors = entry.get("e", {})
            for i, ordinal in enumerate(entry["k"]):
                if ordinal >= floor:
                    known[ordinal] = SyncResult(
                        _STATUS[entry["s"][i]], entry["i"][i], errors.get(str(i)), entry["a"][i]
                    )
    if meta is None or meta.get("v") != VERSION:
        handle.close()
        raise JournalError(f"{path} is not a push journal this version can resume")
    handle.seek(good_end)
    handle.truncate()
    return ResumeState(meta, checkpoint, known)


#: Only the data must reach the disk; the file's times need not (cheaper where it differs).
_sync = getattr(os, "fdatasync", os.fsync)
