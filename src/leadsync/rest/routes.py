"""The table of REST endpoints leadsync answers, and Marketo's table of all of them.

Handlers register with ``@endpoint(METHOD, PATH)``; a path's ``{name}`` parts become
``call.path_params``. A request for one of Marketo's endpoints that leadsync does not
emulate gets 610 naming it (``endpoints.tsv``, from Adobe's OpenAPI files).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from leadsync.clock import Clock
from leadsync.config import Settings
from leadsync.jobs.kinds import JOB_OPERATIONS
from leadsync.model import AccessToken
from leadsync.operations.fields import FieldCatalogue, catalogue_of
from leadsync.rest.request import RestRequest
from leadsync.store.base import Store

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(slots=True)
class RestCall:
    """What a handler receives."""

    store: Store
    settings: Settings
    request: RestRequest
    token: AccessToken
    clock: Clock
    path_params: dict[str, str] = field(default_factory=dict)
    _catalogue: FieldCatalogue | None = None

    @property
    def catalogue(self) -> FieldCatalogue:
        if self._catalogue is None:
            self._catalogue = catalogue_of(self.store.custom_fields())
        return self._catalogue


@dataclass(frozen=True, slots=True)
class RawReply:
    """A handler's answer that is not the JSON envelope: a file (bulk failures, export
    files), sent from ``path`` in chunks (``length`` bytes from ``offset``), or ``body``."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    path: str | None = None
    offset: int = 0
    length: int = 0


#: What a handler returns: the envelope's keys besides requestId and success.
Reply = dict[str, Any]
Handler = Callable[[RestCall], Reply | RawReply]


@dataclass(slots=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    handlers: dict[str, Handler] = field(default_factory=dict)


def compile_template(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    regex = "".join(
        f"(?P<{part}>[^/]+?)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


ROUTES: dict[str, Route] = {}


def endpoint(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        route = ROUTES.get(template)
        if route is None:
            route = ROUTES[template] = Route(template, compile_template(template))
        route.handlers[method] = handler
        return handler

    return register


@dataclass(frozen=True, slots=True)
class MarketoEndpoint:
    method: str
    template: str
    name: str
    pattern: re.Pattern[str]


def marketo_endpoints() -> list[MarketoEndpoint]:
    """Every endpoint of Marketo's lead database and identity APIs."""
    text = resources.files("leadsync.rest").joinpath("endpoints.tsv").read_text("utf-8")
    found = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            method, template, name = line.split("\t")
            found.append(MarketoEndpoint(method, template, name, compile_template(template)))
    return found


def load_routes() -> dict[str, Route]:
    """Every handler module, imported for its registrations."""
    from leadsync.bulk import exports, imports  # noqa: F401
    from leadsync.rest import activities, leads, lists, stats  # noqa: F401

    return ROUTES


@functools.cache
def operation_name(handler: Handler) -> str:
    """What fault rules and logs call an endpoint: its handler's name in camel case
    (``sync_leads`` -> ``syncLeads``)."""
    head, *rest = handler.__name__.split("_")
    return head + "".join(part.title() for part in rest)


def rest_operations() -> list[str]:
    """Every REST operation name ``op=`` of a fault rule may take."""
    names = {
        operation_name(handler)
        for route in load_routes().values()
        for handler in route.handlers.values()
    }
    return sorted(names | set(JOB_OPERATIONS.values()))


class Router:
    def __init__(self) -> None:
        routes = load_routes()
        # Literal paths first, so ``leads/describe.json`` is not taken for ``leads/{id}``.
        self.routes = sorted(routes.values(), key=lambda r: "{" in r.template)
        self.marketo = marketo_endpoints()

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    def not_emulated(self, method: str, path: str) -> MarketoEndpoint | None:
        """Marketo's endpoint at this path (for this method when there is one)."""
        candidates = [e for e in self.marketo if e.pattern.match(path)]
        for candidate in candidates:
            if candidate.method == method:
                return candidate
        return candidates[0] if candidates else None


#: Marketo's APIs that leadsync emulates no endpoint of, by path prefix.
OTHER_APIS = (("/rest/asset/", "Marketo's Asset API"),)


def not_found_message(path: str) -> str:
    """610's message for a path that is no endpoint of the lead database or identity APIs."""
    for prefix, name in OTHER_APIS:
        if path.startswith(prefix):
            return f"Requested resource not found: {name} ({path}) is not emulated by leadsync"
    return f"Requested resource not found: {path}"


def emulated(router: Router, marketo: MarketoEndpoint) -> bool:
    """Whether leadsync answers this Marketo endpoint (identity always is)."""
    if marketo.template.startswith("/identity/"):
        return True
    sample = re.sub(r"\{\w+\}", "123", marketo.template)
    found = router.match(sample)
    return found is not None and marketo.method in found[0].handlers


def endpoint_table(router: Router) -> str:
    """docs/rest.md's table of every Marketo endpoint and whether leadsync emulates it."""
    lines = ["| Method | Path | Marketo's name | leadsync |", "|---|---|---|---|"]
    for marketo in router.marketo:
        status = "emulated" if emulated(router, marketo) else "610 (not emulated)"
        lines.append(f"| {marketo.method} | `{marketo.template}` | {marketo.name} | {status} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates docs/rest.md's table
    # The package's module, not this __main__ copy, is the one handlers register with.
    from leadsync.rest import routes

    print(routes.endpoint_table(routes.Router()), end="")
