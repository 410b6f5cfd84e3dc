"""Pushing a CSV file through syncMultipleLeads with every row accounted for.

Every record ends in the results file exactly once, in input order, and every record that
did not succeed also ends in the rejects file as it was read, under the original header,
ready to be fixed and pushed again. The journal (see ``journal``) makes an interrupted push
resumable without sending again what the server already answered.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Protocol, TypeVar

from leadsync.client.batching import Batch, Batcher
from leadsync.client.csvsource import Columns, CsvSource
from leadsync.client.envelopes import RecordError, lead_record
from leadsync.client.errors import ClientError
from leadsync.client.journal import Checkpoint, Journal, JournalError, ResumeState
from leadsync.client.models import FieldInfo, Lead, SyncResult, SyncStatus
from leadsync.client.runcheck import difference, input_identity, shape
from leadsync.client.validate import EMAIL_PATTERN, FieldValidator, check_value, length_only
from leadsync.mktows.escaping import esc, needs_escaping

log = logging.getLogger("leadsync.client.push")

RESULTS_HEADER = ("line", "key", "status", "lead_id", "error", "attempts")

#: Called with (line number, problem) for each row that fails before or after sending.
ProblemHook = Callable[[int, str], None]


T = TypeVar("T")


class BatchSender(Protocol):
    """Where a push sends its batches: a ``Client``, or ``soap.local.LocalSync`` (import)."""

    endpoint: str

    def batcher(self) -> Batcher[Any]: ...

    def waiting(self) -> str | None:
        """What holds the calls back right now (a rate limit, a backoff), if anything."""

    def sync_batches(
        self,
        batches: Iterable[Batch[T]],
        dedup: bool = True,
        *,
        stop: threading.Event | None = None,
    ) -> Iterator[tuple[Batch[T], list[SyncResult]]]: ...


class PushError(Exception):
    """The push cannot start or cannot go on (bad journal, output not writable)."""


@dataclass(slots=True)
class Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    unknown: int = 0
    retried: int = 0

    def add(self, result: SyncResult) -> None:
        self.rows += 1
        if result.status is SyncStatus.CREATED:
            self.created += 1
        elif result.status is SyncStatus.UPDATED:
            self.updated += 1
        elif result.status is SyncStatus.UNKNOWN:
            self.unknown += 1
        else:
            self.failed += 1
        if result.attempts > 1:
            self.retried += 1

    @property
    def rejected(self) -> int:
        return self.failed + self.unknown

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "unknown": self.unknown,
            "retried": self.retried,
        }

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Counts:
        return cls(**{k: int(v) for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(slots=True)
class Progress:
    #: Records with a final outcome, this run and any run it resumes.
    rows_done: int
    bytes_read: int
    total_bytes: int | None
    #: Of ``rows_done``, those this run settled (what a rate of rows per second counts).
    rows_this_run: int = 0


@dataclass(slots=True)
class PushReport:
    counts: Counts
    #: Records whose outcome the interrupted run had already recorded.
    resumed_from: int = 0
    #: Stopped (Ctrl-C) before every row had an outcome; ``--resume`` continues.
    interrupted: bool = False


@dataclass(slots=True)
class DryRunReport:
    rows: int = 0
    would_send: int = 0
    calls: int = 0
    rejected: int = 0


@dataclass(slots=True)
class PushOptions:
    results_path: str
    rejects_path: str
    dedup: bool = True
    resume: bool = False
    #: Send empty cells as empty values (which clear the field) instead of leaving them out.
    send_blanks: bool = False
    #: ``--map``: column → field ("" leaves the column out); recorded so a resume matches.
    mapping: dict[str, str] = field(default_factory=dict)
    #: Seconds between checkpoints (results and rejects fsync'd, journal marked).
    checkpoint_every: float = 1.0

    @property
    def journal_path(self) -> str:
        return self.results_path + ".journal"


@dataclass(slots=True, eq=False)
class _Slot:
    ordinal: int
    line: int
    key: str
    raw: bytes
    result: SyncResult | None = None
    #: The outcome came from the journal of the run being resumed (reported back then).
    replayed: bool = False


def _failed(error: str) -> SyncResult:
    return SyncResult(SyncStatus.FAILED, None, error, 0)


class RowPreparer:
    """A row's values to a ``<leadRecord>`` fragment, or ValueError saying what is wrong.

    Most rows hold nothing that XML needs escaped; those are assembled straight from
    per-column templates, which is several times faster than going through ``Lead``. A row
    with anything to escape takes the general path; both give the same bytes and errors.
    """

    def __init__(
        self,
        columns: Columns,
        batcher: Batcher[Any],
        *,
        validator: FieldValidator | None = None,
        send_blanks: bool = False,
    ) -> None:
        self.columns = columns
        self.batcher = batcher
        self.validator = validator
        self.send_blanks = send_blanks
        self._templates = [
            (index, f"<attribute><attrName>{esc(name)}</attrName><attrValue>")
            for index, name in columns.attributes
        ]
        #: ``(column, field name, field or None if unknown, length limit)``; a limit above 0
        #: means a length check is all the field's type asks for.
        self._checks: list[tuple[int, str, FieldInfo | None, int]] = []
        if validator is not None:
            for index, name in columns.attributes:
                info = validator.fields.get(name.casefold())
                self._checks.append((index, name, info, length_only(info)))

    def unknown_columns(self) -> list[str]:
        if self.validator is None:
            return []
        return self.validator.unknown([name for _, name in self.columns.attributes])

    def prepare(self, values: list[str]) -> bytes:
        if needs_escaping("\t".join(values)):
            data = self._general(values)
        else:
            data = self._plain(values).encode("utf-8")
        if not self.batcher.fits(data):
            raise RecordError(
                f"the row is {len(data):,} bytes of XML, more than one call may carry"
            )
        return data

    def _general(self, values: list[str]) -> bytes:
        lead: Lead = self.columns.to_lead(values, send_blanks=self.send_blanks)
        if self.validator is not None:
            problem = self.validator.check(lead)
            if problem is not None:
                raise ValueError(problem)
        return lead_record(lead)

    def _plain(self, values: list[str]) -> str:
        columns = self.columns
        raw_id = values[columns.id].strip() if columns.id is not None else ""
        fsp = values[columns.fsp_id].strip() if columns.fsp_id is not None else ""
        fst = values[columns.fsp_type].strip() if columns.fsp_type is not None else ""
        email = values[columns.email].strip() if columns.email is not None else ""
        lead_id = None
        if raw_id:
            try:
                lead_id = int(raw_id)
            except ValueError:
                raise ValueError(f"Id is not an integer: {raw_id!r}") from None
        if lead_id is None and not fsp and not email:
            raise ValueError("no key: the row needs Id, Email or ForeignSysPersonId")
        send_blanks = self.send_blanks
        if self.validator is not None:
            if email and not EMAIL_PATTERN.match(email):
                raise ValueError(f"Email is not an email address: {email!r}")
            for index, name, info, limit in self._checks:
                value = values[index]
                if limit and len(value) <= limit:
                    continue
                if value or send_blanks:
                    if info is None:
                        raise ValueError(f"unknown field {name}")
                    problem = check_value(info, value)
                    if problem is not None:
                        raise ValueError(problem)
        parts = ["<leadRecord>"]
        if lead_id is not None:
            parts.append(f"<Id>{lead_id}</Id>")
        if email:
            parts.append(f"<Email>{email}</Email>")
        if fsp:
            parts.append(f"<ForeignSysPersonId>{fsp}</ForeignSysPersonId>")
        if fst:
            parts.append(f"<ForeignSysType>{fst}</ForeignSysType>")
        # One string per attribute, joined once: the loop every row of a push runs through.
        attributes = "".join(
            [
                f"{template}{values[index]}</attrValue></attribute>"
                for index, template in self._templates
                if values[index] or send_blanks
            ]
        )
        if email and (lead_id is not None or fsp):
            attributes += f"{_EMAIL_TEMPLATE}{email}</attrValue></attribute>"
        if attributes:
            parts.append(f"<leadAttributeList>{attributes}</leadAttributeList>")
        parts.append("</leadRecord>")
        return "".join(parts)


_EMAIL_TEMPLATE = "<attribute><attrName>Email</attrName><attrValue>"


class PushEngine:
    def __init__(
        self,
        client: BatchSender,
        source: CsvSource,
        preparer: RowPreparer,
        options: PushOptions,
        *,
        on_problem: ProblemHook | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.source = source
        self.preparer = preparer
        self.options = options
        self.on_problem = on_problem or (lambda line, problem: None)
        self.on_progress = on_progress or (lambda progress: None)
        self.stop = stop or threading.Event()
        self.counts = Counts()
        self._slots: collections.deque[_Slot] = collections.deque()
        self._known: dict[int, SyncResult] = {}
        self._skip = 0
        self._accounted = 0
        self._exhausted = False
        self._answered = 0
        #: Rows a resumed run found settled: in the counts, not this run's work.
        self._resumed_rows = 0
        #: Set when a push that got nowhere cleaned up after itself (nothing to resume).
        self.journal_removed = False
        self._last_checkpoint = time.monotonic()
        self._results: IO[str]
        self._results_csv: Any = None
        self._rejects: IO[bytes]
        self._journal: Journal

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> PushReport:
        resumed_from = self._open()
        try:
            for column in self.preparer.unknown_columns():
                self.on_problem(
                    1, f"column {column} is not a lead field; rows with a value in it fail"
                )
            batches = self.client.sync_batches(self._batches(), self.options.dedup, stop=self.stop)
            for batch, results in batches:
                self._answered += 1
                self._journal.batch(
                    [(slot.ordinal, r) for slot, r in zip(batch.tags, results, strict=True)]
                )
                for slot, result in zip(batch.tags, results, strict=True):
                    slot.result = result
                self._drain()
                self._maybe_checkpoint()
                self._report_progress()
        except ClientError:
            if not self._answered and not self.options.resume:
                # Nothing reached the server: leave no journal that would ask for --resume.
                self._close()
                self._discard()
                raise
            self._drain()
            self._checkpoint()
            self._close()
            raise
        except BaseException:
            self._close()
            raise
        self._drain()
        self._checkpoint()
        self._report_progress()
        interrupted = bool(self._slots) or not self._exhausted
        if interrupted:
            self._close()
        else:
            self._close()
            self._journal.remove()
        return PushReport(self.counts, resumed_from, interrupted)

    def _batches(self) -> Iterator[Batch[_Slot]]:
        batcher = self.preparer.batcher
        columns = self.preparer.columns
        slots = self._slots
        known = self._known
        for row in self.source:
            if row.ordinal < self._skip:
                continue
            if self.stop.is_set():
                return
            values = row.values
            slot = _Slot(row.ordinal, row.line, columns.key_of(values) if values else "", row.raw)
            slots.append(slot)
            earlier = known.pop(row.ordinal, None) if known else None
            if earlier is not None:
                slot.result = earlier
                slot.replayed = True
                self._drain()
                continue
            if values is None:
                slot.result = _failed(row.error or "malformed row")
            else:
                try:
                    data = self.preparer.prepare(values)
                except ValueError as exc:
                    slot.result = _failed(str(exc))
                else:
                    full = batcher.add(data, slot)
                    if full is not None:
                        yield full
                    continue
            self._drain()
        last = batcher.flush()
        if last is not None:
            yield last
        self._exhausted = True

    # -- output, in input order -------------------------------------------------------------------
    def _drain(self) -> None:
        slots = self._slots
        writer = self._results_csv
        assert writer is not None
        while slots and slots[0].result is not None:
            slot = slots.popleft()
            result = slot.result
            assert result is not None
            writer.writerow(
                (
                    slot.line,
                    slot.key,
                    result.status.value,
                    "" if result.lead_id is None else result.lead_id,
                    result.error or "",
                    result.attempts,
                )
            )
            if slot.replayed:
                self._resumed_rows += 1
            if not result.ok:
                if not slot.replayed:
                    self.on_problem(slot.line, result.error or result.status.value)
                raw = slot.raw
                if not raw.endswith(b"\n"):
                    raw += self._newline
                self._rejects.write(raw)
            self.counts.add(result)
            self._accounted = slot.ordinal + 1

    def _maybe_checkpoint(self) -> None:
        if time.monotonic() - self._last_checkpoint >= self.options.checkpoint_every:
            self._checkpoint()

    def _checkpoint(self) -> None:
        for handle in (self._results, self._rejects):
            handle.flush()
            os.fsync(handle.fileno())
        self._journal.checkpoint(
            Checkpoint(
                records=self._accounted,
                results_size=self._results.tell(),
                rejects_size=self._rejects.tell(),
                counts=self.counts.as_dict(),
            )
        )
        self._last_checkpoint = time.monotonic()

    def _report_progress(self) -> None:
        self.on_progress(
            Progress(
                self.counts.rows,
                self.source.position(),
                self.source.total_bytes,
                self.counts.rows - self._resumed_rows,
            )
        )

    # -- files --------------------------------------------------------------------------------
    def _meta(self) -> dict[str, object]:
        return {
            "input": os.path.abspath(self.source.path) if self.source.path != "-" else "-",
            "header": self.source.header_raw.decode(self.source.encoding, "replace"),
            **self._run_shape(),
            "results": os.path.abspath(self.options.results_path),
            "rejects": os.path.abspath(self.options.rejects_path),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _run_shape(self) -> dict[str, Any]:
        """What a resume must find unchanged (see ``runcheck``)."""
        options = self.options
        try:
            identity = input_identity(self.source.path)
        except OSError as exc:
            raise PushError(f"cannot read {exc.filename}: {exc.strerror}") from None
        return shape(options.mapping, options.dedup, options.send_blanks) | identity

    def _open(self) -> int:
        options = self.options
        header_raw = self.source.header_raw
        self._newline = b"\r\n" if header_raw.endswith(b"\r\n") else b"\n"
        try:
            if options.resume:
                self._journal, state = Journal.resume(options.journal_path)
                return self._open_resumed(state)
            self._journal = Journal.create(options.journal_path, self._meta())
            self._results = open(options.results_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._rejects = open(options.rejects_path, "wb")  # noqa: SIM115
        except JournalError as exc:
            raise PushError(str(exc)) from None
        except OSError as exc:
            raise PushError(f"cannot write {exc.filename}: {exc.strerror}") from None
        self._results_csv = csv.writer(self._results)
        self._results_csv.writerow(RESULTS_HEADER)
        if not header_raw.endswith(b"\n"):
            header_raw += self._newline
        self._rejects.write(header_raw)
        self._checkpoint()
        return 0

    def _open_resumed(self, state: ResumeState) -> int:
        meta = state.meta
        header = self.source.header_raw.decode(self.source.encoding, "replace")
        if meta.get("header") != header:
            self._journal.close()
            raise PushError(
                f"{self.options.journal_path} belongs to a push of another file "
                "(its header differs)"
            )
        different = difference(meta, self._run_shape(), self.source.path)
        if different is not None:
            self._journal.close()
            raise PushError(
                f"cannot resume: {different}; resume with the same options and file, or delete"
                f" {self.options.journal_path} to start over"
            )
        checkpoint = state.checkpoint or Checkpoint()
        try:
            self._reopen(checkpoint)
        except BaseException:
            self._journal.close()
            raise
        self._results_csv = csv.writer(self._results)
        self._skip = checkpoint.records
        self._accounted = checkpoint.records
        self._known = state.known
        self.counts = Counts.from_dict(checkpoint.counts)
        self._resumed_rows = self.counts.rows
        log.info(
            "resuming after %d records; %d later ones already answered",
            checkpoint.records,
            len(state.known),
        )
        return checkpoint.records + len(state.known)

    def _reopen(self, checkpoint: Checkpoint) -> None:
        """Cut the results and rejects files back to the checkpoint and open them to append."""
        try:
            for path, size in (
                (self.options.results_path, checkpoint.results_size),
                (self.options.rejects_path, checkpoint.rejects_size),
            ):
                if os.path.getsize(path) < size:
                    raise PushError(f"{path} is shorter than the journal says; cannot resume")
                os.truncate(path, size)
            self._results = open(self.options.results_path, "a", encoding="utf-8", newline="")  # noqa: SIM115
            self._rejects = open(self.options.rejects_path, "ab")  # noqa: SIM115
        except OSError as exc:
            raise PushError(f"cannot resume: {exc.filename}: {exc.strerror}") from None

    def _discard(self) -> None:
        for path in (
            self.options.journal_path,
            self.options.results_path,
            self.options.rejects_path,
        ):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.journal_removed = True

    def _close(self) -> None:
        for handle in (self._results, self._rejects):
            if not handle.closed:
                handle.close()
        self._journal.close()


def dry_run(
    source: CsvSource, preparer: RowPreparer, *, on_problem: ProblemHook | None = None
) -> DryRunReport:
    """Read and check every row, and count the calls a push would make; send nothing."""
    report = DryRunReport()
    problem = on_problem or (lambda line, text: None)
    for column in preparer.unknown_columns():
        problem(1, f"column {column} is not a lead field; rows with a value in it fail")
    batcher = preparer.batcher
    for row in source:
        report.rows += 1
        error = row.error
        if row.values is not None:
            try:
                data = preparer.prepare(row.values)
            except ValueError as exc:
                error = str(exc)
            else:
                report.would_send += 1
                if batcher.add(data, _Slot(row.ordinal, row.line, "", b"")) is not None:
                    report.calls += 1
                continue
        report.rejected += 1
        problem(row.line, error or "malformed row")
    if batcher.flush() is not None:
        report.calls += 1
    return report


def default_output_paths(input_path: str) -> tuple[str, str]:
    """``leads.csv`` → ``leads.results.csv``, ``leads.rejects.csv`` beside it (for ``-``,
    ``push.results.csv`` and ``push.rejects.csv`` in the working directory)."""
    if input_path == "-":
        return "push.results.csv", "push.rejects.csv"
    stem = input_path
    for suffix in (".gz", ".csv", ".txt", ".tsv"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return f"{stem}.results.csv", f"{stem}.rejects.csv"


__all__ = [
    "Counts",
    "DryRunReport",
    "Progress",
    "PushEngine",
    "PushError",
    "PushOptions",
    "PushReport",
    "RowPreparer",
    "default_output_paths",
    "dry_run",
]
