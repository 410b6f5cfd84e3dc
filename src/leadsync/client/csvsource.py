"""Reading lead rows from CSV: streamed, with line numbers and the original text of each row.

A file is read as bytes, one physical line at a time, and decoded line by line, so a bad
byte fails its own row instead of the whole read, and a failed row can be written back out
exactly as it came in (the rejects file). Only ASCII-compatible encodings qualify (UTF-8,
Latin-1, cp1252, ...): in those a newline byte is always a newline.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, BinaryIO, cast

from leadsync.client.models import KEY_FIELDS, Lead

STDIN = "-"
_KEYS_FOLDED = {name.casefold(): name for name in KEY_FIELDS}
_BOM = codecs.BOM_UTF8


class SourceError(Exception):
    """The input as a whole cannot be read (missing file, bad header, unusable option)."""


@dataclass(slots=True)
class Row:
    """One CSV record: where it starts, its text as read, its fields (None if malformed)."""

    #: Position among the file's records (blank lines are not records), from 0.
    ordinal: int
    #: The physical line the record starts on; the header is line 1.
    line: int
    raw: bytes
    values: list[str] | None
    error: str | None = None


class CsvSource:
    """The rows of a CSV file, a ``.csv.gz`` file, or standard input (``-``)."""

    def __init__(
        self,
        path: str,
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        stdin: BinaryIO | None = None,
    ) -> None:
        if len(delimiter) != 1:
            raise SourceError(f"the delimiter must be one character, not {delimiter!r}")
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise SourceError(f"unknown encoding {encoding!r}") from None
        probe = f'\n\r,;\t|"{delimiter}'
        try:
            ascii_compatible = probe.encode(codec.name) == probe.encode("ascii")
        except (UnicodeError, ValueError):
            ascii_compatible = False
        if not ascii_compatible:
            raise SourceError(
                f"encoding {encoding!r} is not ASCII-compatible; convert the file to UTF-8"
            )
        self.path = path
        self.delimiter = delimiter
        self.encoding = codec.name
        self.total_bytes: int | None = None
        self._raw: BinaryIO
        self._stream: IO[bytes]
        if path == STDIN:
            self._raw = stdin if stdin is not None else sys.stdin.buffer
            self._stream = self._raw
        else:
            try:
                self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise SourceError(f"cannot open {path}: {exc.strerror or exc}") from None
            self.total_bytes = os.fstat(self._raw.fileno()).st_size
            self._stream = self._raw
            if _is_gzip(self._raw):
                self._stream = cast(IO[bytes], gzip.GzipFile(fileobj=self._raw, mode="rb"))
        self._compressed = self._stream is not self._raw
        self._consumed = 0
        self._line = 0
        self._pending: list[bytes] = []
        self._decode_errors: list[str] = []
        self._lines = self._physical_lines()
        try:
            self.header_raw, self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    # -- reading ------------------------------------------------------------------------------
    def _physical_lines(self) -> Iterator[str]:
        decode = codecs.getdecoder(self.encoding)
        pending = self._pending
        for chunk in self._stream:
            self._line += 1
            self._consumed += len(chunk)
            pending.append(chunk)
            try:
                yield decode(chunk)[0]
            except UnicodeDecodeError as exc:
                self._decode_errors.append(
                    f"line {self._line}: bytes that are not {self.encoding}: {exc.reason}"
                )
                yield chunk.decode(self.encoding, "replace")

    def _read_header(self) -> tuple[bytes, list[str]]:
        self._reader = csv.reader(self._lines, delimiter=self.delimiter, strict=True)
        while True:
            self._pending.clear()
            try:
                names = next(self._reader)
            except StopIteration:
                raise SourceError(f"{self.describe()} is empty: no header line") from None
            except csv.Error as exc:
                raise SourceError(
                    f"line {self._line}: the header is not valid CSV: {exc}"
                ) from None
            if names:
                break
        if self._decode_errors:
            raise SourceError(self._decode_errors[0])
        raw = b"".join(self._pending)
        if names and names[0].startswith("\ufeff"):
            names[0] = names[0][1:]
        return raw, [n.strip() for n in names]

    def __iter__(self) -> Iterator[Row]:
        reader = self._reader
        pending = self._pending
        width = len(self.header)
        ordinal = 0
        while True:
            pending.clear()
            self._decode_errors.clear()
            try:
                values: list[str] | None = next(reader)
                error = None
            except StopIteration:
                return
            except csv.Error as exc:
                values, error = None, f"malformed CSV: {exc}"
            if values is not None and not values:
                continue  # a blank line
            first = self._line - len(pending) + 1
            if self._decode_errors:
                values, error = None, self._decode_errors[0].split(": ", 1)[1]
            elif values is not None and len(values) != width:
                error = f"expected {width} fields, found {len(values)}"
                values = None
            yield Row(ordinal, first, b"".join(pending), values, error)
            ordinal += 1

    # -- progress and lifecycle --------------------------------------------------------------
    def position(self) -> int:
        """Bytes of the file read so far (of the compressed file, for ``.gz``)."""
        if self._compressed:
            try:
                return self._raw.tell()
            except (OSError, ValueError):
                return 0
        return self._consumed

    def describe(self) -> str:
        return "standard input" if self.path == STDIN else self.path

    def close(self) -> None:
        if self._compressed:
            self._stream.close()
        if self.path != STDIN:
            self._raw.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_gzip(raw: BinaryIO) -> bool:
    magic = raw.read(2)
    raw.seek(0)
    return magic == b"\x1f\x8b"


# -- columns to leads --------------------------------------------------------------------------


def parse_map(specs: Sequence[str]) -> dict[str, str]:
    """``["e-mail=Email", "Notes="]`` → ``{"e-mail": "Email", "Notes": ""}`` (empty: drop)."""
    mapping: dict[str, str] = {}
    for spec in specs:
        source, sep, target = spec.partition("=")
        if not sep or not source.strip():
            raise SourceError(f"--map takes COLUMN=FIELD, not {spec!r}")
        mapping[source.strip()] = target.strip()
    return mapping


@dataclass(slots=True)
class Columns:
    """What each column of the header becomes on a LeadRecord."""

    names: list[str]
    id: int | None = None
    email: int | None = None
    fsp_id: int | None = None
    fsp_type: int | None = None
    #: ``(column index, field name)`` for every attribute column.
    attributes: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def from_header(cls, header: Sequence[str], mapping: dict[str, str]) -> Columns:
        folded_header = {h.casefold(): h for h in header}
        for source in mapping:
            if source not in header and source.casefold() not in folded_header:
                raise SourceError(f"--map {source}=...: the header has no column {source!r}")
        folded_map = {k.casefold(): v for k, v in mapping.items()}
        columns = cls(names=[])
        seen: dict[str, int] = {}
        for index, name in enumerate(header):
            target = mapping.get(name, folded_map.get(name.casefold(), name))
            columns.names.append(target)
            if target == "":
                if name in mapping or name.casefold() in folded_map:
                    continue  # dropped on purpose
                raise SourceError(f"line 1: column {index + 1} has no name")
            folded = target.casefold()
            if folded in seen:
                raise SourceError(
                    f"line 1: columns {seen[folded] + 1} and {index + 1} both give {target}"
                )
            seen[folded] = index
            key = _KEYS_FOLDED.get(folded)
            if key == "Id":
                columns.id = index
            elif key == "Email":
                columns.email = index
            elif key == "ForeignSysPersonId":
                columns.fsp_id = index
            elif key == "ForeignSysType":
                columns.fsp_type = index
            else:
                columns.attributes.append((index, target))
        if columns.id is None and columns.email is None and columns.fsp_id is None:
            raise SourceError(
                "line 1: no key column: the header needs Id, Email or ForeignSysPersonId"
            )
        return columns

    def key_of(self, values: Sequence[str]) -> str:
        """The key the server matches on first (Id, then ForeignSysPersonId, then Email)."""
        for index, name in (
            (self.id, "Id"),
            (self.fsp_id, "ForeignSysPersonId"),
            (self.email, "Email"),
        ):
            if index is not None and index < len(values) and values[index].strip():
                return f"{name}={values[index].strip()}"
        return ""

    def to_lead(self, values: Sequence[str], *, send_blanks: bool = False) -> Lead:
        """The LeadRecord for a row; ValueError says what is wrong with it.

        An empty cell is left out (the lead keeps its value) unless ``send_blanks``. When a
        row has Email and also Id or ForeignSysPersonId, Email is sent as an attribute too,
        so the lead's email follows the file.
        """
        lead = Lead()
        if self.id is not None and (raw_id := values[self.id].strip()):
            try:
                lead.id = int(raw_id)
            except ValueError:
                raise ValueError(f"Id is not an integer: {raw_id!r}") from None
        if self.fsp_id is not None and (fsp := values[self.fsp_id].strip()):
            lead.foreign_sys_person_id = fsp
        if self.fsp_type is not None and (fst := values[self.fsp_type].strip()):
            lead.foreign_sys_type = fst
        if self.email is not None and (email := values[self.email].strip()):
            lead.email = email
        if lead.id is None and lead.foreign_sys_person_id is None and lead.email is None:
            raise ValueError("no key: the row needs Id, Email or ForeignSysPersonId")
        attributes = lead.attributes
        for index, name in self.attributes:
            value = values[index]
            if value or send_blanks:
                attributes[name] = value
        if lead.email is not None and (lead.id is not None or lead.foreign_sys_person_id):
            attributes["Email"] = lead.email
        return lead
