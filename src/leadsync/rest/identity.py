"""``GET|POST /identity/oauth/token``: an OAuth client-credentials grant.

Its answers are OAuth's, not Marketo's envelope: a token, or HTTP 401 with ``error`` and
``error_description``.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from leadsync.operations.identity import BadClientCredentials, issue_token
from leadsync.rest.request import RestRequest
from leadsync.store.base import Store

IDENTITY_PATH = "/identity/oauth/token"
#: The headers Marketo's identity endpoint sends.
IDENTITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-XSS-Protection": "1; mode=block",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def _oauth_error(status: int, error: str, description: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"error": error, "error_description": description})


def token_endpoint(
    store: Store, request: RestRequest, now: datetime, lifetime_s: int
) -> tuple[int, bytes]:
    if request.http_method not in ("GET", "POST"):
        return _oauth_error(
            405, "method_not_allowed", f"Request method '{request.http_method}' not supported"
        )
    grant = request.param("grant_type")
    if grant is None or not grant.strip():
        return _oauth_error(400, "invalid_request", "Missing grant type")
    if grant.strip() != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
    client_id = (request.param("client_id") or "").strip()
    secret = request.param("client_secret") or ""
    if not client_id or not secret:
        return _oauth_error(401, "unauthorized", "Bad client credentials")
    try:
        issued = issue_token(store, client_id, secret, now, lifetime_s)
    except BadClientCredentials as exc:
        return _oauth_error(401, exc.error, exc.description)
    return 200, orjson.dumps(
        {
            "access_token": issued.token.token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }
    )
