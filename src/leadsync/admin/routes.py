"""The admin API under /admin (docs/testing.md): fault rules, reset, leads, usage, limits.

It exists only when an admin token is configured, and every request must carry it as
``Authorization: Bearer TOKEN``. It speaks JSON and is meant for tests and operators, not
for Marketo clients.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.config import Settings
from leadsync.errors import ConfigError
from leadsync.limits.faults import RuleError, parse_rule, rule_from_mapping, rule_json
from leadsync.limits.policy import parse_rate
from leadsync.model import Lead
from leadsync.rest.limits import UsageView, limits_of, usage_views
from leadsync.rest.routes import rest_operations
from leadsync.serving.bodies import (
    BodyBudget,
    BodyBudgetExhausted,
    BodyTooLarge,
    ClientGone,
    read_body,
)
from leadsync.soap.wsdl import wsdl_operations
from leadsync.store.base import LeadQuery, Store, email_key
from leadsync.store.control import FaultRule, LimitValues, UnknownUser

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_PAGE = 1000


class _BadRequest(Exception):
    pass


def admin_routes(
    store: Store,
    settings: Settings,
    limits_changed: Callable[[], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[BaseRoute]:
    """The admin routes, or none when no admin token is configured. ``limits_changed`` is
    told when a user's limits are changed through them; usage is counted by ``clock``'s day,
    as the calls were."""
    if not settings.admin_token:
        return []
    api = _AdminApi(store, settings, limits_changed or (lambda: None), clock)
    auth = _authorized(settings.admin_token)
    return [
        Mount(
            "/admin",
            routes=[
                Route("/faults", auth(api.faults), methods=["GET", "POST", "DELETE"]),
                Route("/faults/{rule_id:int}", auth(api.fault), methods=["GET", "DELETE"]),
                Route("/reset", auth(api.reset), methods=["POST"]),
                Route("/leads", auth(api.leads), methods=["GET"]),
                Route("/usage", auth(api.usage), methods=["GET"]),
                Route("/users/{user_id}/limits", auth(api.limits), methods=["GET", "PUT"]),
            ],
        )
    ]


def _authorized(token: str) -> Callable[[Endpoint], Endpoint]:
    expected = token.encode("utf-8")

    def wrap(endpoint: Endpoint) -> Endpoint:
        async def checked(request: Request) -> Response:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            supplied = given.strip().encode("utf-8", "replace")
            if scheme.lower() != "bearer" or not hmac.compare_digest(supplied, expected):
                return JSONResponse(
                    {"error": "a valid admin token is required (Authorization: Bearer TOKEN)"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            try:
                return await endpoint(request)
            except (_BadRequest, RuleError, ConfigError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except BodyTooLarge:
                too_large = f"the request body is over {MAX_ADMIN_BODY_BYTES} bytes"
                return JSONResponse({"error": too_large}, status_code=413)
            except BodyBudgetExhausted:
                busy = "the server is reading too many request bodies; try again"
                return JSONResponse({"error": busy}, status_code=503)
            except ClientGone:
                return Response(status_code=400)  # nobody is reading it

        return checked

    return wrap


#: Admin bodies are fault rules and limits: a few kilobytes; anything near this is abuse.
MAX_ADMIN_BODY_BYTES = 1 << 20


async def _json_body(request: Request) -> Any:
    budget: BodyBudget = request.app.state.body_budget
    raw = await read_body(request, MAX_ADMIN_BODY_BYTES, budget)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise _BadRequest("the request body is not JSON") from None


class _AdminApi:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        limits_changed: Callable[[], None],
        clock: Clock,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.limits_changed = limits_changed
        # Fault rules may name SOAP operations and REST ones.
        self.operations = frozenset(wsdl_operations()) | frozenset(rest_operations())

    # -- fault rules ----------------------------------------------------------------------
    async def faults(self, request: Request) -> Response:
        faults = self.store.faults()
        if request.method == "GET":
            rules = await anyio.to_thread.run_sync(faults.rules)
            return JSONResponse({"faults": [rule_json(rule) for rule in rules]})
        if request.method == "DELETE":
            removed = await anyio.to_thread.run_sync(faults.remove)
            return JSONResponse({"removed": removed})
        body = await _json_body(request)
        items = body if isinstance(body, list) else [body]
        rules = [self._rule(item) for item in items]
        added = await anyio.to_thread.run_sync(lambda: faults.add(rules))
        return JSONResponse({"faults": [rule_json(rule) for rule in added]}, status_code=201)

    def _rule(self, item: Any) -> FaultRule:
        seed = self.settings.seed
        if isinstance(item, str):
            return parse_rule(item, seed=seed, operations=self.operations)
        if isinstance(item, dict):
            if set(item) == {"rule"} and isinstance(item["rule"], str):
                return parse_rule(item["rule"], seed=seed, operations=self.operations)
            return rule_from_mapping(item, seed=seed, operations=self.operations)
        raise _BadRequest('send a rule: {"op": ..., "code": ...} or {"rule": "op=...,code=..."}')

    async def fault(self, request: Request) -> Response:
        rule_id: int = request.path_params["rule_id"]
        faults = self.store.faults()
        if request.method == "DELETE":
            removed = await anyio.to_thread.run_sync(lambda: faults.remove(rule_id))
            if not removed:
                return JSONResponse({"error": f"no fault rule {rule_id}"}, status_code=404)
            return JSONResponse({"removed": removed})
        rules = await anyio.to_thread.run_sync(faults.rules)
        for rule in rules:
            if rule.id == rule_id:
                return JSONResponse(rule_json(rule))
        return JSONResponse({"error": f"no fault rule {rule_id}"}, status_code=404)

    # -- reset ----------------------------------------------------------------------------
    async def reset(self, request: Request) -> Response:
        body = await _json_body(request) or {}
        if not isinstance(body, dict) or not all(isinstance(v, bool) for v in body.values()):
            raise _BadRequest('send {"usage": true, "faults": true} or nothing')
        unknown = set(body) - {"usage", "faults"}
        if unknown:
            raise _BadRequest(f"unknown reset option {sorted(unknown)[0]!r}")

        def run() -> dict[str, Any]:
            result: dict[str, Any] = {"leads": self.store.reset_leads()}
            if body.get("usage"):
                self.store.limits().reset_usage()
                result["usage"] = True
            if body.get("faults"):
                result["faults"] = self.store.faults().remove()
            return result

        return JSONResponse(await anyio.to_thread.run_sync(run))

    # -- leads ----------------------------------------------------------------------------
    async def leads(self, request: Request) -> Response:
        params = request.query_params
        limit = _int_param(params.get("limit"), "limit", 100, 1, MAX_PAGE)
        after = _int_param(params.get("after"), "after", 0, 0, 2**63 - 1)
        email = params.get("email")
        lead_id = params.get("id")

        def run() -> list[Lead]:
            with self.store.read() as reader:
                if lead_id is not None:
                    wanted = _int_param(lead_id, "id", 0, 1, 2**63 - 1)
                    return list(reader.leads_by_ids([wanted]).values())
                if email is not None:
                    return reader.leads_by_email([email_key(email)]).get(email_key(email), [])
                return reader.leads_page(LeadQuery(after_id=after), limit)

        found = await anyio.to_thread.run_sync(run)
        page_full = email is None and lead_id is None and len(found) == limit
        return JSONResponse(
            {
                "leads": [_lead_json(lead) for lead in found],
                "next": found[-1].id if page_full and found else None,
            }
        )

    # -- usage and limits -----------------------------------------------------------------
    async def usage(self, request: Request) -> Response:
        user_id = request.query_params.get("user")
        views = await anyio.to_thread.run_sync(
            lambda: usage_views(self.store, self.settings, user_id, self.clock.now().timestamp())
        )
        return JSONResponse({"usage": [_usage_json(view) for view in views]})

    async def limits(self, request: Request) -> Response:
        user_id: str = request.path_params["user_id"]
        store = self.store.limits()
        if request.method == "GET":
            overrides = await anyio.to_thread.run_sync(lambda: store.overrides(user_id))
        else:
            changes = _limit_changes(await _json_body(request))
            try:
                overrides = await anyio.to_thread.run_sync(
                    lambda: store.update_limits(user_id, changes)
                )
            except UnknownUser as exc:
                return JSONResponse({"error": str(exc)}, status_code=404)
            self.limits_changed()
        return JSONResponse(
            {
                "user": user_id,
                "own": _limits_json(overrides),
                "effective": _limits_json(overrides.over(limits_of(self.settings, user_id))),
            }
        )


def _limit_changes(body: Any) -> dict[str, int | None]:
    """``{"daily_quota": 5, "rate": "3/1s", "concurrency": null}``: null means the server's
    setting, 0 or "off" no limit."""
    if not isinstance(body, dict):
        raise _BadRequest('send {"daily_quota": N, "rate": "N/20s", "concurrency": N}')
    changes: dict[str, int | None] = {}
    for key, value in body.items():
        if key == "rate":
            if value is None:
                changes["rate_calls"] = changes["rate_window_ms"] = None
                continue
            calls, window = parse_rate(str(value))
            changes["rate_calls"] = calls
            changes["rate_window_ms"] = window
        elif key in ("daily_quota", "concurrency"):
            if value is None or value == "off":
                changes[key] = None if value is None else 0
            elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                changes[key] = value
            else:
                raise _BadRequest(f"{key} must be a whole number, 'off' or null")
        else:
            raise _BadRequest(f"unknown limit {key!r} (daily_quota, rate, concurrency)")
    return changes


def _limits_json(limits: LimitValues) -> dict[str, Any]:
    return {
        "daily_quota": limits.daily_quota,
        "rate_calls": limits.rate_calls,
        "rate_window_ms": limits.rate_window_ms,
        "concurrency": limits.concurrency,
    }


def _int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise _BadRequest(f"{name} must lie between {low} and {high}")
    return value


def _lead_json(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "email": lead.email,
        "foreignSysPersonId": lead.foreign_sys_person_id,
        "foreignSysType": lead.foreign_sys_type,
        "attributes": lead.values,
        "createdAt": lead.created_at.isoformat(),
        "updatedAt": lead.updated_at.isoformat(),
    }


def _usage_json(view: UsageView) -> dict[str, Any]:
    row = view.usage
    return {
        "user": row.user_id,
        "calls_today": row.day_calls,
        "records_today": row.records,
        "calls_in_window": row.window_calls,
        "in_flight": row.in_flight,
        "rejects": {str(code): count for code, count in row.rejects.items()},
        "limits": _limits_json(view.limits),
    }
