"""Who signed a call: the AuthenticationHeader checked against the user's key (the
signature itself is the kit's, ``leadsync.mktows.signing``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from leadsync.errors import AuthenticationFailed, RequestExpired
from leadsync.mktows.signing import parse_timestamp, signature_matches
from leadsync.model import ApiUser


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: str
    signature: str
    timestamp: str


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
    good = signature_matches(key, credentials.timestamp, credentials.user_id, credentials.signature)
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
