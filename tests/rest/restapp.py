"""In-process REST test kit: the ASGI app on a store, a service, a client, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.types import ASGIApp

from leadsync.app import create_app
from leadsync.clock import SettableClock
from leadsync.config import Settings
from leadsync.model import ApiService
from leadsync.operations.identity import create_service
from leadsync.rest.app import RestService
from leadsync.store.base import Store

CLIENT_ID = "3d0c7f4e-1111-4a4a-9b9b-0123456789ab"
CLIENT_SECRET = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t00"


class AppClient:
    """A synchronous HTTP client on an ASGI app, in process: httpx over ASGITransport, on an
    event loop of its own in a thread (as a server would run the app)."""

    def __init__(self, portal: BlockingPortal, app: ASGIApp) -> None:
        self._portal = portal
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://leadsync.test"
        )

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self._portal.call(partial(self._client.request, method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def close(self) -> None:
        self._portal.call(self._client.aclose)


@contextmanager
def app_client(app: ASGIApp) -> Iterator[AppClient]:
    with start_blocking_portal() as portal:
        client = AppClient(portal, app)
        try:
            yield client
        finally:
            client.close()


@dataclass
class Rest:
    """A test client on the app, with a service and a token."""

    http: AppClient
    store: Store
    clock: SettableClock
    service: ApiService
    #: The app's REST service, for tests that drive a call's steps themselves.
    api: RestService
    token: str = ""

    def authenticate(self) -> str:
        answer = self.http.get(
            "/identity/oauth/token",
            params={
                "grant_type": "client_credentials",
                "client_id": self.service.client_id,
                "client_secret": self.service.client_secret,
            },
        )
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]
        return self.token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers={**self.headers(), **kw.pop("headers", {})}, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, headers={**self.headers(), **kw.pop("headers", {})}, **kw)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(
            method, path, headers={**self.headers(), **kw.pop("headers", {})}, **kw
        )

    def ok(self, answer: httpx.Response) -> dict[str, Any]:
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["success"] is True, body
        return body

    def error(self, answer: httpx.Response) -> str:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["success"] is False, body
        assert list(body) == ["requestId", "success", "errors"]
        code: str = body["errors"][0]["code"]
        assert isinstance(code, str)
        return code


def make_rest(store: Store, settings: Settings | None = None) -> Iterator[Rest]:
    clock = SettableClock(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    app = create_app(settings or Settings(), store, clock=clock)
    service = create_service(store, "tests", clock.now(), CLIENT_ID, CLIENT_SECRET)
    try:
        with app_client(app) as http:
            rest = Rest(http, store, clock, service, app.state.rest)
            rest.authenticate()
            yield rest
    finally:
        # No lifespan runs here: the history's thread must stop before the store closes.
        if app.state.call_history is not None:
            app.state.call_history.close()
