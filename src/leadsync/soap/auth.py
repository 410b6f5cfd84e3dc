"""The AuthenticationHeader check (spec §2): HMAC-SHA1 over timestamp + user id."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from leadsync.errors import AuthenticationFailed, RequestExpired
from leadsync.model import ApiUser

# ISO-8601 with an offset or Z, optional fraction; also Ruby's "2015-07-01 00:00:00 +0000".
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: str
    signature: str
    timestamp: str


def sign(encryption_key: str, timestamp: str, user_id: str) -> str:
    """The signature a client sends: lowercase hex HMAC-SHA1(key, timestamp + user id)."""
    message = (timestamp + user_id).encode("utf-8")
    return hmac.new(encryption_key.encode("utf-8"), message, hashlib.sha1).hexdigest()


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


def authenticate(
    credentials: Credentials | None,
    lookup: Callable[[str], ApiUser | None],
    *,
    window_seconds: int,
    now: datetime | None = None,
) -> ApiUser:
    """The user who signed, or a fault: 20014 for anything wrong with who signed (one answer
    for an unknown user and a bad signature), 20016 for a timestamp outside the window."""
    if credentials is None or not credentials.user_id:
        raise AuthenticationFailed("Authentication failed")
    user = lookup(credentials.user_id)
    # Compute a signature even for an unknown user so both answers take the same time.
    key = user.encryption_key if user is not None else "\0unknown-user"
    expected = sign(key, credentials.timestamp, credentials.user_id)
    given = credentials.signature.strip().lower()
    good = hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))
    if user is None or not good:
        raise AuthenticationFailed("Authentication failed")
    instant = parse_timestamp(credentials.timestamp)
    if instant is None:
        raise RequestExpired(
            f"Request Expired: requestTimestamp {credentials.timestamp!r} is not a timestamp"
        )
    skew = ((now or datetime.now(UTC)) - instant).total_seconds()
    if abs(skew) > window_seconds:
        problem = "too old" if skew > 0 else "in the future"
        raise RequestExpired(f"Request Expired: requestTimestamp is {problem}")
    return user
