"""Bulk lead import: a delimited file of REST field names and values, synced in chunks.

Each row is synced by the REST sync rule (``rest_sync.sync_batch``, the rule of
``POST /rest/v1/leads.json``) with the import's ``lookupField`` and partition; ``listId``
adds the imported leads to that list (``lists.add_members_in``). A chunk's leads, its list
members, its activities and the job's progress (how far into the file it got) commit in one
write, so a job resumed after its process died starts after the last committed row and never
imports a row twice. Failed and warned rows are appended to their files before that commit;
a resumed job first cuts the files back to the sizes the commit recorded.

Rows keep their bytes: a failure or warning line is the input row exactly as it came (quoted
newlines and all) followed by the delimiter and the reason.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import IO, Any

from leadsync.clock import Clock
from leadsync.errors import (
    BlankValue,
    InvalidData,
    InvalidValue,
    ObjectNotFound,
    TooManyImports,
)
from leadsync.jobs.context import JobContext
from leadsync.jobs.files import JobFiles
from leadsync.jobs.kinds import IMPORT, IMPORT_QUEUE
from leadsync.model import Activity, LeadInput, StaticList
from leadsync.operations import rest_sync
from leadsync.operations.fields import STRING_MAX_CHARS, FieldCatalogue, catalogue_of
from leadsync.operations.lists import add_members_in, remove_members_in
from leadsync.store.base import LeadQuery, LeadWriter, Store
from leadsync.store.jobs import CANCELED, COMPLETED, FAILED, QUEUED, RUNNING, Job

#: Files above this are refused (HTTP 413), as Marketo does.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: The delimiter of each format (SSV: semicolon separated).
DELIMITERS = {"csv": ",", "tsv": "\t", "ssv": ";"}
#: Rows synced and committed together.
CHUNK_ROWS = 500
#: The pause between chunks.
YIELD_SECONDS = 0.002
FAILURE_HEADER = "Import Failure Reason"
WARNING_HEADER = "Import Warning Reason"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ImportRequest:
    data: bytes
    format: str | None
    lookup_field: str | None = None
    list_id: str | None = None
    partition: str | None = None
    #: SOAP importToList: the list by name, and the program it is asked about by.
    list_name: str | None = None
    program: str | None = None
    #: Only add the rows' existing leads to the list, changing none of their fields.
    list_only: bool = False
    #: Empty the list before the rows are imported.
    clear_list: bool = False


def parse_format(text: str | None) -> str:
    if text is None or not text.strip():
        raise BlankValue("format cannot be blank")
    fmt = text.strip().lower()
    if fmt not in DELIMITERS:
        raise InvalidValue(f"Invalid value '{text}' for format: csv, tsv or ssv")
    return fmt


def split_row(raw: bytes, delimiter: str) -> list[str]:
    """One record's fields (ValueError when its bytes are not UTF-8)."""
    return _split_text(raw.decode("utf-8"), delimiter)


def _split_text(text: str, delimiter: str) -> list[str]:
    if '"' not in text and "\r" not in text and "\n" not in text:
        # Without quotes a row is its fields joined by the delimiter: what csv would read.
        return text.split(delimiter)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    return rows[0] if rows else [""]


def raw_records(stream: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """Each record's bytes without its line end, and the offset just after it. A newline
    inside double quotes belongs to the record."""
    pending = b""
    quotes = 0
    # Counted rather than asked of the stream: each tell() is a system call.
    end = stream.tell()
    for line in stream:
        end += len(line)
        pending += line
        quotes += line.count(b'"')
        if quotes % 2:
            continue
        record = pending[:-2] if pending.endswith(b"\r\n") else pending.rstrip(b"\n")
        pending, quotes = b"", 0
        yield record, end
    if pending:
        yield pending, end


def _header(stream: IO[bytes], delimiter: str) -> tuple[bytes, list[str], int]:
    """The header row's bytes (without a BOM), its names, and the offset of the first row."""
    first = next(raw_records(stream), None)
    if first is None or not first[0].strip():
        raise InvalidData("Empty file: the first row must name the fields")
    raw, end = first
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        names = [name.strip() for name in split_row(raw, delimiter)]
    except (ValueError, csv.Error):
        raise InvalidData("Invalid header row: it must be UTF-8 text naming fields") from None
    seen: set[str] = set()
    for name in names:
        if not name:
            raise InvalidData("Invalid header row: a column has no name")
        if name.casefold() in seen:
            raise InvalidData(f"Invalid header row: column '{name}' is given twice")
        seen.add(name.casefold())
    return raw, names, end


def create_import(
    store: Store,
    catalogue: FieldCatalogue,
    files: JobFiles,
    request: ImportRequest,
    clock: Clock,
) -> Job:
    """Check the request and the file's header, keep the file, and queue the job (1016 when
    the queue is full)."""
    fmt = parse_format(request.format)
    rest_sync.plan(catalogue, None, request.lookup_field, request.partition)
    list_id = None
    if request.list_id is not None and request.list_id.strip():
        text = request.list_id.strip()
        if not text.isdigit() or not 0 < int(text) < 2**63:
            raise InvalidValue(f"Invalid value '{text}'. Required of type 'Integer'")
        list_id = int(text)
        with store.read() as reader:
            if reader.static_list(list_id=list_id) is None:
                raise ObjectNotFound(f"Static list not found: {list_id}")
    if request.list_name is not None:
        with store.read() as reader:
            named = reader.static_list(name=request.list_name)
        if named is None:
            raise ObjectNotFound(f"Static list not found: {request.list_name}")
        list_id = named.id
    with io.BytesIO(request.data) as stream:
        _header(stream, DELIMITERS[fmt])
    upload = files.save_upload(request.data)
    params: dict[str, Any] = {
        "format": fmt,
        "lookupField": request.lookup_field,
        "listId": list_id,
        "partitionName": request.partition,
        "upload": upload,
        "bytes": len(request.data),
    }
    if request.list_name is not None:
        params["soapList"] = [request.program or "", request.list_name]
        params["listOnly"] = request.list_only
        params["clearList"] = request.clear_list
    job = store.jobs().create(IMPORT, params, clock.now(), queue=IMPORT_QUEUE)
    if job is None:
        files.path(upload).unlink(missing_ok=True)
        raise TooManyImports(f"Too many imports: at most {IMPORT_QUEUE.waiting} queued")
    return job


# -- what status.json says ------------------------------------------------------------------
def wire_status(job: Job) -> str:
    if job.status in (QUEUED, "created"):
        return "Queued"
    if job.status == RUNNING:
        # A fault rule may hold a claimed job back: it looks queued meanwhile.
        return "Queued" if job.state.get("stalled") else "Importing"
    if job.status == COMPLETED:
        return "Complete"
    return "Failed"


def counts(job: Job) -> tuple[int, int, int]:
    """Rows imported, failed and warned so far."""
    state = job.state
    return int(state.get("processed", 0)), int(state.get("failed", 0)), int(state.get("warned", 0))


def message(job: Job) -> str:
    """Marketo's wording for the job's status."""
    if job.status in (FAILED, CANCELED):
        return job.message or "Import failed"
    if job.status in (QUEUED, "created") or job.state.get("stalled"):
        return "Queued for processing"
    if job.status == RUNNING:
        return f"Import in progress, {counts(job)[0]} records imported so far"
    return job.message or _complete_message(job.state, job.params.get("listId") is not None)


def _complete_message(state: dict[str, Any], to_list: bool) -> str:
    processed = int(state.get("processed", 0))
    failed = int(state.get("failed", 0))
    warned = int(state.get("warned", 0))
    members = int(state.get("members", 0)) if to_list else processed
    if failed:
        text = (
            f"Import completed with errors, {processed} records imported ({members} members),"
            f" {failed} failed"
        )
    else:
        text = f"Import succeeded, {processed} records imported ({members} members)"
    if warned:
        text += f", {warned} warning{'s' if warned > 1 else ''}."
    return text


# -- running the job --------------------------------------------------------------------------
def _reason_cell(reason: str, delimiter: str) -> bytes:
    if any(c in reason for c in (delimiter, '"', "\n", "\r")):
        reason = '"' + reason.replace('"', '""') + '"'
    return reason.encode("utf-8")


@dataclass(slots=True)
class _Row:
    raw: bytes
    record: LeadInput | None
    failure: str | None = None
    warning: str | None = None


class _Outputs:
    """The failures and warnings files, appended to and cut back to committed sizes."""

    def __init__(self, files: JobFiles, job: Job, header: bytes, delimiter: str) -> None:
        self.delimiter = delimiter
        self.failures_path = files.output(job.id, "failures")
        self.warnings_path = files.output(job.id, "warnings")
        sep = delimiter.encode()
        self.headers = (
            header + sep + FAILURE_HEADER.encode() + b"\n",
            header + sep + WARNING_HEADER.encode() + b"\n",
        )

    def start(self, state: dict[str, Any]) -> tuple[IO[bytes], IO[bytes]]:
        handles = []
        for path, header, key in (
            (self.failures_path, self.headers[0], "failures_bytes"),
            (self.warnings_path, self.headers[1], "warnings_bytes"),
        ):
            size = state.get(key)
            if size is None:
                with open(path, "wb") as out:
                    out.write(header)
                state[key] = len(header)
            else:
                with open(path, "ab") as out:
                    out.truncate(int(size))
            handles.append(open(path, "ab"))  # noqa: SIM115 - closed by the caller
        return handles[0], handles[1]

    def line(self, raw: bytes, reason: str) -> bytes:
        return raw + self.delimiter.encode() + _reason_cell(reason, self.delimiter) + b"\n"


def run_import(ctx: JobContext, chunk_rows: int = CHUNK_ROWS) -> None:
    job = ctx.job
    params = job.params
    fmt = str(params["format"])
    delimiter = DELIMITERS[fmt]
    catalogue = catalogue_of(ctx.store.custom_fields())
    checked = rest_sync.plan(
        catalogue, None, params.get("lookupField"), params.get("partitionName")
    )
    list_only = bool(params.get("listOnly"))
    if checked.lookup == "id" or list_only:
        # Marketo: lookupField id makes the import update only; so does a list-only import.
        checked = rest_sync.plan(
            catalogue, "updateOnly", params.get("lookupField"), params.get("partitionName")
        )
    path = ctx.files.path(str(params["upload"]))
    with open(path, "rb") as stream:
        header, names, first_row = _header(stream, delimiter)
    known = [rest_sync.known_field(catalogue, name) for name in names]
    if list_only:
        # The rows only name leads: every column but the lookup field is left out.
        lookup = str(params.get("lookupField") or "email").casefold()
        known = [ok and name.casefold() == lookup for name, ok in zip(names, known, strict=True)]
    rows = _RowReader(rest_sync.RecordReader(catalogue, checked), names, known, delimiter)
    static_list = None
    list_id = params.get("listId")
    if list_id is not None:
        with ctx.store.read() as reader:
            static_list = reader.static_list(list_id=int(list_id))
        if static_list is None:
            ctx.finish(FAILED, f"Import failed: static list {list_id} no longer exists")
            return
    state = dict(job.state)
    outputs = _Outputs(ctx.files, job, header, delimiter)
    failures, warnings = outputs.start(state)
    state.setdefault("offset", first_row)
    state.setdefault("rows", 0)
    if static_list is not None and params.get("clearList") and not state.get("cleared"):
        _clear_list(ctx, static_list, state)
    ctx.renew(state)
    try:
        with open(path, "rb") as stream:
            stream.seek(int(state["offset"]))
            chunk: list[_Row] = []
            end = int(state["offset"])
            for raw, end in raw_records(stream):
                if not raw.strip():
                    continue
                chunk.append(rows.row(raw))
                if len(chunk) >= chunk_rows:
                    _commit(
                        ctx,
                        catalogue,
                        checked,
                        static_list,
                        chunk,
                        end,
                        state,
                        outputs,
                        failures,
                        warnings,
                    )
                    chunk = []
                    ctx.check_stop()
                    # Let calls waiting for the write lock (and the interpreter) in before
                    # the next chunk: an import must not starve SOAP and REST callers.
                    time.sleep(YIELD_SECONDS)
            _commit(
                ctx, catalogue, checked, static_list, chunk, end, state, outputs, failures, warnings
            )
    finally:
        failures.close()
        warnings.close()
    ctx.finish(COMPLETED, _complete_message(state, static_list is not None), state)


def _clear_list(ctx: JobContext, static_list: StaticList, state: dict[str, Any]) -> None:
    """Empty the list (with Remove from List history) in the write that records it."""
    with ctx.store.write() as tx:
        at = ctx.clock.now()
        members: list[int] = []
        after = 0
        while page := tx.leads_page(LeadQuery(after_id=after, list_id=static_list.id), 1000):
            members += [lead.id for lead in page]
            after = page[-1].id
        state["cleared"] = True
        ctx.save_state(tx, state)
        tx.record_activities(remove_members_in(tx, static_list, members, at))


class _RowReader:
    """A file's rows as the records the sync takes, its header resolved once."""

    def __init__(
        self,
        reader: rest_sync.RecordReader,
        names: list[str],
        known: list[bool],
        delimiter: str,
    ) -> None:
        self.reader = reader
        self.width = len(names)
        self.delimiter = delimiter
        kept = [i for i, ok in enumerate(known) if ok]
        self.columns = reader.columns(tuple(names[i] for i in kept))
        self.pick: Callable[[list[str]], Sequence[str]] = (
            itemgetter(*kept) if len(kept) > 1 else lambda cells: [cells[i] for i in kept]
        )
        #: The columns no field has: a value there is ignored, with a warning.
        self.ignored = [(i, names[i]) for i, ok in enumerate(known) if not ok]

    def row(self, raw: bytes) -> _Row:
        try:
            text = raw.decode("utf-8")
            cells = _split_text(text, self.delimiter)
        except ValueError:
            return _Row(raw, None, failure="Invalid row: not UTF-8 text")
        except csv.Error as exc:
            return _Row(raw, None, failure=f"Invalid row: {exc}")
        if len(cells) != self.width:
            return _Row(
                raw,
                None,
                failure=f"Invalid row: {len(cells)} fields where the header names {self.width}",
            )
        # No cell is longer than its row, nor holds a character its row does not.
        clean = len(text) <= STRING_MAX_CHARS and text.isprintable()
        record = self.reader.read(self.columns, self.pick(cells), skip_empty=True, clean=clean)
        warning = None
        if self.ignored:
            ignored = [name for i, name in self.ignored if cells[i] != ""]
            if ignored:
                warning = "; ".join(
                    f"Field '{name}' not found, its value was ignored" for name in ignored
                )
        return _Row(raw, record, warning=warning)


def _commit(
    ctx: JobContext,
    catalogue: FieldCatalogue,
    checked: rest_sync.SyncPlan,
    static_list: Any,
    chunk: list[_Row],
    end: int,
    state: dict[str, Any],
    outputs: _Outputs,
    failures: IO[bytes],
    warnings: IO[bytes],
) -> None:
    valid = [row.record for row in chunk if row.record is not None]
    new_state = dict(state)

    def in_write(
        tx: LeadWriter, at: datetime, outcomes: list[rest_sync.RestOutcome]
    ) -> list[Activity]:
        failed_lines: list[bytes] = []
        warned_lines: list[bytes] = []
        imported: list[int] = []
        by_row = iter(outcomes)
        for row in chunk:
            if row.record is None:
                failed_lines.append(outputs.line(row.raw, row.failure or "Invalid row"))
                continue
            outcome = next(by_row)
            if outcome.status == "skipped":
                reason = outcome.reasons[0][1] if outcome.reasons else "Lead was skipped"
                failed_lines.append(outputs.line(row.raw, reason))
                continue
            assert outcome.lead_id is not None
            imported.append(outcome.lead_id)
            if row.warning:
                warned_lines.append(outputs.line(row.raw, row.warning))
        activities: list[Activity] = []
        if static_list is not None and imported:
            activities = add_members_in(tx, static_list, list(dict.fromkeys(imported)), at)
            new_state["members"] = int(state.get("members", 0)) + len(activities)
        new_state["failures_bytes"] = _append(failures, failed_lines)
        new_state["warnings_bytes"] = _append(warnings, warned_lines)
        new_state["processed"] = int(state.get("processed", 0)) + len(imported)
        new_state["failed"] = int(state.get("failed", 0)) + len(failed_lines)
        new_state["warned"] = int(state.get("warned", 0)) + len(warned_lines)
        new_state["rows"] = int(state.get("rows", 0)) + len(chunk)
        new_state["offset"] = end
        ctx.save_state(tx, new_state)
        return activities

    rest_sync.sync_inputs(ctx.store, catalogue, checked, valid, ctx.clock, in_write)
    state.clear()
    state.update(new_state)


def _append(out: IO[bytes], lines: list[bytes]) -> int:
    """Append ``lines`` durably; the file's size after."""
    if lines:
        out.write(b"".join(lines))
        out.flush()
        os.fsync(out.fileno())
    return out.tell()
