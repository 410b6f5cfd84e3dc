"""The AuthenticationHeader signature (docs/compatibility.md, "Authentication"):
lowercase hex HMAC-SHA1 over the requestTimestamp's literal text followed by the user id."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

# ISO-8601 with an offset or Z, optional fraction; also Ruby's "2015-07-01 00:00:00 +0000".
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)


def sign(encryption_key: str, timestamp: str, user_id: str) -> str:
    """The signature a client sends; the timestamp comes first."""
    message = (timestamp + user_id).encode("utf-8")
    return hmac.new(encryption_key.encode("utf-8"), message, hashlib.sha1).hexdigest()


def signature_matches(encryption_key: str, timestamp: str, user_id: str, given: str) -> bool:
    """Whether ``given`` is the signature of ``timestamp`` + ``user_id``, compared in constant
    time; case and surrounding blanks in ``given`` do not matter (hex is hex)."""
    expected = sign(encryption_key, timestamp, user_id).encode("ascii")
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def timestamp(now: datetime | None = None) -> str:
    """A requestTimestamp in the W3C shape PHP's DATE_W3C gives: ``2013-08-01T18:22:30+00:00``.

    Servers HMAC the literal text, and every Marketo sample sends this shape, so it is the
    one least likely to be rejected by a strict re-implementation.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.isoformat()


def signed_header(
    user_id: str, encryption_key: str, now: datetime | None = None
) -> tuple[str, str]:
    """A fresh ``(requestTimestamp, requestSignature)`` pair."""
    stamp = timestamp(now)
    return stamp, sign(encryption_key, stamp, user_id)


def parse_timestamp(value: str) -> datetime | None:
    """The instant a requestTimestamp names, or None when it is not a timestamp."""
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    day, clock, fraction, offset = match.groups()
    if clock.count(":") == 1:
        clock += ":00"
    fraction = (fraction or "")[:7]
    if offset is None or offset.upper() == "Z":
        offset = "+00:00"
    elif len(offset) == 3:
        offset += ":00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        return datetime.fromisoformat(f"{day}T{clock}{fraction}{offset}")
    except ValueError:
        return None
