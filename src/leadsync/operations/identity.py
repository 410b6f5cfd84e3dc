"""REST identity: services, their access tokens, and checking a presented token.

A service holds one token at a time: asking again before it expires returns the same token
with its remaining lifetime, as Marketo does.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadsync.errors import AccessTokenExpired, AccessTokenInvalid
from leadsync.model import AccessToken, ApiService
from leadsync.store.base import Store

#: Marketo's token lifetime.
TOKEN_LIFETIME_S = 3600
#: Marketo's tokens end with a short pod name after the UUID; ours names leadsync.
_TOKEN_SUFFIX = ":ls"


class BadClientCredentials(Exception):
    """The identity endpoint refuses the client id or secret (an OAuth error, not a code)."""

    def __init__(self, error: str, description: str) -> None:
        self.error = error
        self.description = description
        super().__init__(description)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: AccessToken
    #: Whole seconds left, as ``expires_in`` reports them.
    expires_in: int
    scope: str


def new_client_id() -> str:
    """A client id in the shape Marketo issues (a UUID)."""
    return str(uuid.uuid4())


def new_client_secret() -> str:
    """A secret in the shape Marketo issues (32 letters and digits)."""
    return secrets.token_hex(16)


def create_service(
    store: Store,
    name: str,
    now: datetime,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> ApiService:
    service = ApiService(
        client_id=client_id or new_client_id(),
        name=name,
        client_secret=client_secret or new_client_secret(),
        created_at=now,
    )
    store.services().add_service(service)
    return service


def scope_of(service: ApiService) -> str:
    """What ``scope`` reports: Marketo gives the email of the API-only user behind the
    service; leadsync has no such user, so it names the service."""
    return f"{service.name.replace(' ', '_')}@leadsync"


def issue_token(
    store: Store,
    client_id: str,
    client_secret: str,
    now: datetime,
    lifetime_s: int = TOKEN_LIFETIME_S,
) -> IssuedToken:
    services = store.services()
    service = services.get_service(client_id)
    if service is None:
        raise BadClientCredentials("unauthorized", f"No client with requested id: {client_id}")
    if not secrets.compare_digest(service.client_secret.encode(), client_secret.encode()):
        raise BadClientCredentials("unauthorized", "Bad client credentials")

    def new_token() -> AccessToken:
        return AccessToken(
            f"{uuid.uuid4()}{_TOKEN_SUFFIX}", client_id, now + timedelta(seconds=lifetime_s)
        )

    try:
        token = services.token_for(client_id, now, new_token)
    except LookupError:
        # Removed between the two statements.
        raise BadClientCredentials(
            "unauthorized", f"No client with requested id: {client_id}"
        ) from None
    left = math.floor((token.expires_at - now).total_seconds())
    return IssuedToken(token, max(left, 0), scope_of(service))


def check_token(store: Store, token: str, now: datetime) -> AccessToken:
    """The valid token ``token`` names; 601 when unknown, 602 when expired."""
    found = store.services().find_token(token.strip())
    if found is None:
        raise AccessTokenInvalid()
    if found.expires_at <= now:
        raise AccessTokenExpired()
    return found


class TokenChecker:
    """``check_token`` with the tokens found valid remembered for ``ttl_s`` seconds of the
    monotonic clock (and never past their expiry): a busy client's calls skip the read, and
    a removed service's tokens stop working within ``ttl_s``, in every process."""

    def __init__(self, store: Store, ttl_s: float = 1.0, most: int = 1024) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.most = most
        self._seen: dict[str, tuple[AccessToken, float]] = {}

    def check(self, token: str, now: datetime, monotonic: float) -> AccessToken:
        seen = self._seen.get(token)
        if seen is not None and monotonic - seen[1] < self.ttl_s and seen[0].expires_at > now:
            return seen[0]
        found = check_token(self.store, token, now)
        if len(self._seen) >= self.most:
            self._seen.clear()
        self._seen[token] = (found, monotonic)
        return found
