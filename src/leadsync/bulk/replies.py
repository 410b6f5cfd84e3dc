"""File answers of the bulk API: the job files' folder, content types, ``Range: bytes=``."""

from __future__ import annotations

import re
from pathlib import Path

from leadsync.config import Settings
from leadsync.jobs.files import JobFiles, bulk_root
from leadsync.rest.routes import RawReply

_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "ssv": "text/plain; charset=utf-8",
}
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def files_of(settings: Settings) -> JobFiles:
    return JobFiles(bulk_root(settings))


def byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of a satisfiable single range; None without one (or one this server
    does not understand, so the whole file is sent); False when it cannot be satisfied."""
    if not header:
        return None
    found = _RANGE.match(header)
    if found is None:
        return None
    first_text, last_text = found.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        return False
    return first, min(last, size - 1)


def file_reply(path: Path, size: int, fmt: str, range_header: str | None) -> RawReply:
    """``size`` bytes of ``path`` (or the part a ``Range`` asks for)."""
    headers = {"Content-Type": _TYPES.get(fmt.lower(), _TYPES["csv"]), "Accept-Ranges": "bytes"}
    wanted = byte_range(range_header, size)
    if wanted is False:
        return RawReply(416, {**headers, "Content-Range": f"bytes */{size}"})
    if isinstance(wanted, tuple):
        first, last = wanted
        return RawReply(
            206,
            {**headers, "Content-Range": f"bytes {first}-{last}/{size}"},
            path=str(path),
            offset=first,
            length=last - first + 1,
        )
    return RawReply(200, headers, path=str(path), offset=0, length=size)
