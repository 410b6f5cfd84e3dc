"""Stream positions: opaque tokens that carry where a paged read stopped.

A token is ``kind:field:...:check`` where ``check`` is a CRC-32 of the rest, so a token
that was cut short or edited is refused with 20122 instead of silently reading from
somewhere else. Tokens hold no secret and grant nothing: they only say where to resume.
Like Marketo's own (``id:1089965:to:...``), they resume after the last lead id returned.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from leadsync.errors import BadStreamPosition

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def encode(kind: str, *fields: int | str) -> str:
    body = ":".join([kind, *(str(f) for f in fields)])
    return f"{body}:{_check(body)}"


def decode(token: str, kind: str, count: int) -> list[str]:
    """The ``count`` fields of a ``kind`` token; 20122 for anything else."""
    body, _, check = token.strip().rpartition(":")
    parts = body.split(":")
    if not body or check != _check(body) or parts[0] != kind or len(parts) != count + 1:
        raise BadStreamPosition(f"Bad Stream Position: {token!r} is not a stream position")
    return parts[1:]


def kind_of(token: str) -> str:
    return token.strip().partition(":")[0]


def to_int(text: str) -> int:
    # Ids and microsecond times fit in 18 digits; anything longer was not written here.
    if not text.lstrip("-").isdigit() or len(text) > 19:
        raise BadStreamPosition("Bad Stream Position: damaged stream position")
    return int(text)


def to_time(text: str) -> datetime | None:
    """Microseconds since the epoch, or empty for none."""
    if not text:
        return None
    try:
        return _EPOCH + to_int(text) * _US
    except OverflowError:
        raise BadStreamPosition("Bad Stream Position: damaged stream position") from None


def from_time(value: datetime | None) -> str:
    # Integer arithmetic: a float timestamp can come back one microsecond off.
    return "" if value is None else str((value - _EPOCH) // _US)


def _check(body: str) -> str:
    return f"{zlib.crc32(body.encode('utf-8')):08x}"
