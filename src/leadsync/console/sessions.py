"""Console sessions: a signed cookie, an idle timeout, a CSRF token, throttled sign-in.

The cookie holds the user's name, a CSRF token and when the session was last used, signed
with the key every process on the database shares (store/console.py), so no session table
is needed. It is HttpOnly, SameSite=Strict, limited to /console, and Secure when the server
is reached over https (``public_url``). A session unused for longer than the idle timeout is
over; using it moves the time on.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "leadsync_console"
PATH = "/console"


@dataclass(slots=True)
class Session:
    csrf: str
    user: str | None = None
    #: When it was last used (seconds since the epoch).
    seen: float = 0.0
    #: Set when the cookie must be written back (a new session, or the user changed).
    changed: bool = False


class Sessions:
    def __init__(
        self,
        key: str,
        *,
        idle_seconds: int,
        secure: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = URLSafeSerializer(key, salt="leadsync-console-session")
        self.idle_seconds = idle_seconds
        self._secure = secure
        self._clock = clock

    def load(self, request: Request) -> Session:
        """The request's session; a new, signed-out one when it has none, a bad one or one
        idle for too long."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data: Any = self._serializer.loads(raw)
            except BadSignature:
                data = None
            if (
                isinstance(data, dict)
                and isinstance(data.get("csrf"), str)
                and isinstance(data.get("seen"), int | float)
                and self._clock() - data["seen"] <= self.idle_seconds
            ):
                user = data.get("user")
                return Session(
                    csrf=data["csrf"],
                    user=user if isinstance(user, str) else None,
                    seen=float(data["seen"]),
                )
        return Session(csrf=secrets.token_urlsafe(24), changed=True)

    def save(self, session: Session, response: Response) -> None:
        """Write the session back, moving its last use to now."""
        session.seen = self._clock()
        value = self._serializer.dumps(
            {"csrf": session.csrf, "user": session.user, "seen": session.seen}
        )
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.idle_seconds,
            path=PATH,
            secure=self._secure,
            httponly=True,
            samesite="strict",
        )

    @staticmethod
    def sign_in(session: Session, user: str) -> None:
        # A new CSRF token with every sign-in, so one seen before cannot be replayed after.
        session.user = user
        session.csrf = secrets.token_urlsafe(24)
        session.changed = True

    @staticmethod
    def sign_out(session: Session) -> None:
        session.user = None
        session.csrf = secrets.token_urlsafe(24)
        session.changed = True


def csrf_ok(session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(session.csrf.encode(), given.encode())


@dataclass
class LoginThrottle:
    """Refuses sign-in attempts for a name or from an address after ``max_failures`` failed
    ones within ``window_seconds`` (in this process), until the oldest of them leaves the
    window."""

    max_failures: int = 5
    window_seconds: float = 300.0
    clock: Callable[[], float] = time.time
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def wait_seconds(self, *keys: str) -> float:
        """How long these keys must wait before the next attempt (0: they may try now)."""
        now = self.clock()
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.max_failures:
                wait = max(wait, times[0] + self.window_seconds - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failures) > 10_000:
            # Bounded memory: forget the keys whose failures have all left the window.
            for key in [
                k for k, t in self._failures.items() if not t or t[-1] < now - self.window_seconds
            ]:
                del self._failures[key]

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.window_seconds:
            times.popleft()
        return times
