"""The AuthenticationHeader signature (spec §2.2): HMAC-SHA1 over timestamp + user id."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime


def sign(encryption_key: str, timestamp: str, user_id: str) -> str:
    """Lowercase hex HMAC-SHA1(key, timestamp + user id); the timestamp comes first."""
    message = (timestamp + user_id).encode("utf-8")
    return hmac.new(encryption_key.encode("utf-8"), message, hashlib.sha1).hexdigest()


def timestamp(now: datetime | None = None) -> str:
    """A requestTimestamp in the W3C shape PHP's DATE_W3C gives: ``2013-08-01T18:22:30+00:00``.

    Servers HMAC the literal text, and every Marketo sample sends this shape, so it is the
    one least likely to be rejected by a strict re-implementation.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.isoformat()


def auth_header(user_id: str, encryption_key: str, now: datetime | None = None) -> tuple[str, str]:
    """A fresh ``(requestTimestamp, requestSignature)`` pair."""
    stamp = timestamp(now)
    return stamp, sign(encryption_key, stamp, user_id)
