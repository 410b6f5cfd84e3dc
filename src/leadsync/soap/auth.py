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
    now = now or datetime.now(UTC)
    user = lookup(credentials.user_id)
    # An unknown user is checked against a placeholder user, along the same path and with
    # the same work (both signatures computed), so the answer's timing does not tell which
    # user ids exist.
    signer = user if user is not None else _NOBODY
    good = signature_matches(
        signer.encryption_key, credentials.timestamp, credentials.user_id, credentials.signature
    )
    previous = signer.grace_key(now)
    good_before = signature_matches(
        previous or _NO_KEY, credentials.timestamp, credentials.user_id, credentials.signature
    )
    if not (good or (previous is not None and good_before)) or user is None:
        raise AuthenticationFailed("Authentication failed")
    instant = parse_timestamp(credentials.timestamp)
    if instant is None:
        raise RequestExpired(
            f"Request Expired: requestTimestamp {credentials.timestamp!r} is not a timestamp"
        )
    skew = (now - instant).total_seconds()
    if abs(skew) > window_seconds:
        problem = "too old" if skew > 0 else "in the future"
        raise RequestExpired(f"Request Expired: requestTimestamp is {problem}")
    return user


_NO_KEY = "\0no-key"
_NOBODY = ApiUser(user_id="", encryption_key=_NO_KEY, created_at=datetime(2000, 1, 1, tzinfo=UTC))
