"""The console's HTTP side: signing in and out, and what every page has in common.

Every page goes through ``Console.page``: the console is off while it has no user; a request
without a live session is sent to the sign-in form; every POST must carry the session's
CSRF token; the page itself runs in a worker thread (its store reads block) and is rendered
by Jinja2 with autoescaping, so a value from the database is always shown as text. The
responses forbid scripts, framing and caching.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from leadsync.config import Settings
from leadsync.console.passwords import DECOY_HASH, verify_password
from leadsync.console.sessions import LoginThrottle, Session, Sessions, csrf_ok
from leadsync.store.base import Store

#: Most fields a console form may send, and the largest one.
MAX_FORM_FIELDS = 40
MAX_FIELD_BYTES = 64 * 1024
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_templates = Environment(
    loader=PackageLoader("leadsync.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


@dataclass
class Page:
    """What a page handler gets: the request's parameters and the signed-in user."""

    user: str
    query: Mapping[str, str]
    path_params: Mapping[str, Any]
    form: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"


@dataclass
class Rendered:
    template: str
    context: dict[str, Any]
    status: int = 200


@dataclass
class Redirect:
    to: str
    #: A message shown once on the page redirected to.
    notice: str = ""


PageHandler = Callable[[Page], Rendered | Redirect]


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


class Console:
    def __init__(
        self, store: Store, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.sessions = Sessions(
            store.console().session_key(secrets.token_urlsafe(32)),
            idle_seconds=settings.console_idle_minutes * 60,
            secure=settings.public_url.startswith("https://"),
            clock=clock,
        )
        self.throttle = LoginThrottle(clock=clock)

    # -- routes -------------------------------------------------------------------------------
    def routes(self, pages: Mapping[str, tuple[PageHandler, list[str]]]) -> list[BaseRoute]:
        inner: list[BaseRoute] = [
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("leadsync.console", "static")])),
        ]
        for path, (handler, methods) in pages.items():
            inner.append(Route(path, self.page(handler), methods=methods))
        return [
            Route("/", _to_console, methods=["GET"]),
            Mount("/console", routes=inner),
        ]

    # -- every page -----------------------------------------------------------------------------
    def page(self, handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not await anyio.to_thread.run_sync(self._has_users):
                return render("off.html", status=503)
            session = self.sessions.load(request)
            user = session.user
            if user is None or not await anyio.to_thread.run_sync(self._user_exists, user):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return self._finish(session, RedirectResponse(_login_url(target), 303))
            page = Page(user, dict(request.query_params), request.path_params)
            if request.method == "POST":
                form = await _read_form(request)
                if form is None or not csrf_ok(session, form.get("csrf")):
                    return self._finish(session, _csrf_refused())
                page.form, page.method = form, "POST"
            result = await anyio.to_thread.run_sync(handler, page)
            if isinstance(result, Redirect):
                to = result.to
                if result.notice:
                    to += ("&" if "?" in to else "?") + "notice=" + quote(result.notice)
                return self._finish(session, RedirectResponse(to, 303))
            context = {
                **result.context,
                "user": user,
                "csrf": session.csrf,
                "notice": page.query.get("notice", ""),
                "path": request.url.path,
                # The Bridge page is in the menu only in bridge mode.
                "bridge": bool(self.settings.upstream_url),
            }
            return self._finish(session, render(result.template, result.status, **context))

        return endpoint

    def _finish(self, session: Session, response: Response) -> Response:
        self.sessions.save(session, response)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _has_users(self) -> bool:
        return bool(self.store.console().users())

    def _user_exists(self, name: str) -> bool:
        return self.store.console().user(name) is not None

    # -- signing in and out ------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        if not await anyio.to_thread.run_sync(self._has_users):
            return render("off.html", status=503)
        session = self.sessions.load(request)
        target = _safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return self._finish(session, render("login.html", csrf=session.csrf, next=target))
        form = await _read_form(request)
        if form is None or not csrf_ok(session, form.get("csrf")):
            return self._finish(session, _csrf_refused())
        name = form.get("name", "")
        keys = (f"name:{name}", f"addr:{request.client.host if request.client else '-'}")
        wait = self.throttle.wait_seconds(*keys)
        if wait > 0:
            error = f"Too many failed attempts; try again in {int(wait) + 1} s."
            page = render("login.html", 429, csrf=session.csrf, next=target, error=error)
            return self._finish(session, page)
        ok = await anyio.to_thread.run_sync(self._check_password, name, form.get("password", ""))
        if not ok:
            self.throttle.failed(*keys)
            error = "Wrong name or password."
            page = render("login.html", 401, csrf=session.csrf, next=target, error=error)
            return self._finish(session, page)
        self.throttle.succeeded(*keys)
        self.sessions.sign_in(session, name)
        return self._finish(session, RedirectResponse(target, 303))

    def _check_password(self, name: str, password: str) -> bool:
        user = self.store.console().user(name) if name else None
        # An unknown name is checked against a decoy, so it takes as long as a wrong password.
        ok = verify_password(user.password_hash if user else DECOY_HASH, password)
        return ok and user is not None

    async def logout(self, request: Request) -> Response:
        session = self.sessions.load(request)
        form = await _read_form(request)
        if form is None or not csrf_ok(session, form.get("csrf")):
            return self._finish(session, _csrf_refused())
        self.sessions.sign_out(session)
        return self._finish(session, RedirectResponse("/console/login", 303))


async def _read_form(request: Request) -> dict[str, str] | None:
    """The form's text fields, or None when it is not a bounded form of text fields."""
    try:
        data: FormData = await request.form(
            max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
        )
    except Exception:
        return None
    form: dict[str, str] = {}
    for key, value in data.multi_items():
        if not isinstance(value, str):
            return None
        form[key] = value
    return form


def _csrf_refused() -> Response:
    return render("refused.html", 403, reason="The form's CSRF token is missing or wrong.")


def _login_url(target: str) -> str:
    return "/console/login?next=" + quote(target, safe="")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only, never another site."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console/"


async def _to_console(request: Request) -> Response:
    """The server's root: people who open it in a browser want the console."""
    return RedirectResponse("/console/", 302)
