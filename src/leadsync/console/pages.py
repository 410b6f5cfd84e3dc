"""The console's pages: each reads through the store's methods and returns a template and
its values (web.py renders them). No SQL here, and no rule the operations already hold."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsync.cli.common import new_encryption_key, new_user_id
from leadsync.config import Settings
from leadsync.console.web import Page, PageHandler, Redirect, Rendered
from leadsync.limits.faults import RuleError, parse_rule, rule_text
from leadsync.limits.policy import DayClock, parse_rate, quota_zone, server_limits
from leadsync.metrics import OTHER
from leadsync.model import Lead
from leadsync.operations.fields import catalogue_of, render
from leadsync.operations.identity import create_service
from leadsync.rest.accounting import IDENTITY_OPERATION
from leadsync.rest.limits import REST_SUBJECT, UsageView, rest_limits, usage_views
from leadsync.rest.routes import rest_operations
from leadsync.soap.wsdl import wsdl_operations
from leadsync.store.base import ActivityQuery, AlreadyExists, Store
from leadsync.store.calls import CallQuery
from leadsync.store.console import LeadSearch
from leadsync.store.control import LIMIT_FIELDS, UnknownUser

PAGE_SIZE = 50
#: A limit's refusal of a REST call, by the code the usage counts keep it under.
#: A search by part of a name or company looks at this many ids a step, and takes steps
#: for at most this long before answering with what it found and where it got to.
SCAN_WINDOW = 25_000
SCAN_SECONDS = 0.08
TIMELINE_PAGE = 25


class Pages:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        limits_changed: Callable[[], None],
        faults_consulted: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.limits_changed = limits_changed
        self.faults_consulted = faults_consulted
        self.clock = clock
        self.defaults = server_limits(settings)
        #: REST calls of every service are limited together, under one subject.
        self.rest_defaults = rest_limits(settings)
        self.days = DayClock(quota_zone(settings))
        #: What a fault rule's ``op`` may name: SOAP operations and REST ones.
        self.operations = sorted(set(wsdl_operations()) | set(rest_operations()))
        #: What the calls history names operations: those, identity calls, and the rest.
        self.call_operations = sorted([*self.operations, IDENTITY_OPERATION, OTHER])

    def table(self) -> dict[str, tuple[PageHandler, list[str]]]:
        return {
            "/": (self.overview, ["GET"]),
            "/leads": (self.leads, ["GET"]),
            "/leads/{lead_id:int}": (self.lead, ["GET"]),
            "/calls": (self.calls, ["GET"]),
            "/calls/{call_id:int}": (self.call, ["GET"]),
            "/users": (self.users, ["GET", "POST"]),
            "/faults": (self.faults, ["GET", "POST"]),
        }

    # -- overview -------------------------------------------------------------------------------
    def overview(self, page: Page) -> Rendered:
        now = self.clock()
        midnight = datetime.fromtimestamp(now, UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        counts = self.store.console().lead_counts(midnight)
        calls = self.store.calls().counts_since(int((now - 3600) * 1000))
        by_operation: Counter[tuple[str, str, str]] = Counter()
        faults: Counter[int] = Counter()
        for row in calls:
            outcome = "ok" if row.fault_code is None else "fault"
            by_operation[(row.api, row.operation, outcome)] += row.calls
            if row.fault_code is not None:
                faults[row.fault_code] += row.calls
        nearest = sorted((self._usage_row(u) for u in self._usage()), key=lambda r: -r["share"])[:5]
        return Rendered(
            "overview.html",
            {
                "title": "Overview",
                "counts": counts,
                "calls": sorted(by_operation.items()),
                "faults": sorted(faults.items()),
                "nearest": [r for r in nearest if r["share"] > 0],
                "backend": self.store.url.split(":", 1)[0],
                "size": _size(self.store.console().database_bytes()),
                "history": self.settings.calls_history,
            },
        )

    # -- leads ---------------------------------------------------------------------------------
    def leads(self, page: Page) -> Rendered:
        q = page.query
        errors: list[str] = []
        search = LeadSearch(
            email_prefix=q.get("email", "").strip() or None,
            lead_id=_int(q.get("id"), "Id", errors),
            name=q.get("name", "").strip() or None,
            company=q.get("company", "").strip() or None,
            updated_since=_date(q.get("updated_since"), errors),
            list_id=_int(q.get("list"), "list", errors),
            newest_first=q.get("sort", "newest") != "oldest",
            cursor=_int(q.get("after"), "page", errors),
        )
        found: list[Lead] = []
        next_cursor: int | None = None
        searched_to: int | None = None
        if not errors:
            found, next_cursor, searched_to = self._search(search)
        filters = {k: v for k, v in q.items() if k not in ("after", "notice") and v}
        after = next_cursor if next_cursor is not None else searched_to
        return Rendered(
            "leads.html",
            {
                "title": "Leads",
                "leads": [_lead_row(lead) for lead in found],
                "q": q,
                "errors": errors,
                "lists": self.store.static_lists(),
                "next": _query({**filters, "after": str(after)}) if after is not None else None,
                "first": _query(filters) if search.cursor is not None else None,
                "searched_to": searched_to,
            },
        )

    def _search(self, search: LeadSearch) -> tuple[list[Lead], int | None, int | None]:
        """A page of leads, the cursor of the next page, and, when a search that no index
        serves ran out of time before filling the page, the id it got to."""
        console = self.store.console()
        indexed = search.email_prefix or search.lead_id is not None or search.list_id is not None
        if indexed or not (search.name or search.company):
            found = console.search_leads(search, PAGE_SIZE + 1)
            more = len(found) > PAGE_SIZE
            return found[:PAGE_SIZE], found[PAGE_SIZE - 1].id if more else None, None
        # A part of a name or company: walk the ids in windows, within a time budget, so a
        # rare value costs a bounded wait and a "continue" link rather than a long scan.
        top = console.max_lead_id()
        cursor = (
            search.cursor if search.cursor is not None else (top + 1 if search.newest_first else 0)
        )
        deadline = time.perf_counter() + SCAN_SECONDS
        found = []
        while True:
            step = replace(search, cursor=cursor, id_window=SCAN_WINDOW)
            found += console.search_leads(step, PAGE_SIZE + 1 - len(found))
            if len(found) > PAGE_SIZE:
                return found[:PAGE_SIZE], found[PAGE_SIZE - 1].id, None
            cursor += -SCAN_WINDOW if search.newest_first else SCAN_WINDOW
            if cursor <= 0 or cursor >= top:
                return found, None, None
            if time.perf_counter() > deadline:
                return found, None, cursor

    def lead(self, page: Page) -> Rendered:
        lead_id: int = page.path_params["lead_id"]
        with self.store.read() as reader:
            lead = reader.leads_by_ids([lead_id]).get(lead_id)
            before = _int(page.query.get("before"), "page", [])
            activities = (
                reader.activities(
                    ActivityQuery(lead_ids=(lead_id,), newest_first=True, before_id=before),
                    TIMELINE_PAGE + 1,
                )
                if lead
                else []
            )
        if lead is None:
            return Rendered("missing.html", {"title": "Lead", "what": f"lead {lead_id}"}, 404)
        catalogue = catalogue_of(self.store.custom_fields())
        fields = [
            {
                "soap": f.name,
                "rest": f.rest_name or (f.name if f.custom else ""),
                "label": f.display_name or f.name,
                "value": (lead.email or "")
                if f is catalogue.email
                else render(f, lead.values.get(f.name)),
            }
            for f in sorted(catalogue.fields.values(), key=lambda f: f.name.casefold())
        ]
        list_names = {sl.id: sl.name for sl in self.store.static_lists()}
        memberships = [
            (list_id, list_names.get(list_id, "?"))
            for list_id in self.store.console().lead_list_ids(lead_id)
        ]
        more = len(activities) > TIMELINE_PAGE
        activities = activities[:TIMELINE_PAGE]
        return Rendered(
            "lead.html",
            {
                "title": f"Lead {lead_id}",
                "lead": lead,
                "fields": fields,
                "lists": memberships,
                "activities": activities,
                "older": f"?before={activities[-1].id}" if more else None,
                "newest": before is not None,
            },
        )

    # -- calls -----------------------------------------------------------------------------------
    def calls(self, page: Page) -> Rendered:
        q = page.query
        errors: list[str] = []
        fault = q.get("fault", "").strip()
        query = CallQuery(
            user_id=q.get("user", "").strip() or None,
            operation=q.get("operation", "").strip() or None,
            api=q.get("api", "").strip() or None,
            fault_code=_int(fault, "fault code", errors) if fault not in ("", "any") else None,
            faults_only=fault == "any",
            before_id=_int(q.get("before"), "page", errors),
        )
        found = [] if errors else self.store.calls().page(query, PAGE_SIZE + 1)
        more = len(found) > PAGE_SIZE
        found = found[:PAGE_SIZE]
        filters = {k: v for k, v in q.items() if k not in ("before", "notice") and v}
        return Rendered(
            "calls.html",
            {
                "title": "Calls",
                "calls": found,
                "q": q,
                "errors": errors,
                "operations": self.call_operations,
                "apis": ("soap", "rest", "bulk"),
                "next": _query({**filters, "before": str(found[-1].id)}) if more else None,
                "first": _query(filters) if query.before_id is not None else None,
                "history": self.settings.calls_history,
                "when": _when,
            },
        )

    def call(self, page: Page) -> Rendered:
        call_id: int = page.path_params["call_id"]
        entry = self.store.calls().get(call_id)
        if entry is None:
            return Rendered("missing.html", {"title": "Call", "what": f"call {call_id}"}, 404)
        summary: dict[str, Any] = json.loads(entry.summary) if entry.summary else {}
        return Rendered(
            "call.html",
            {"title": f"Call {call_id}", "call": entry, "summary": summary, "when": _when},
        )

    # -- users -----------------------------------------------------------------------------------
    def users(self, page: Page) -> Rendered | Redirect:
        if page.method == "POST":
            return self._user_action(page.form)
        return self._users_page()

    def _users_page(
        self,
        new_key: tuple[str, str, str] | None = None,
        new_service: tuple[str, str] | None = None,
    ) -> Rendered:
        usage = {view.usage.user_id: view for view in self._usage()}
        rows = []
        for user in self.store.list_users():
            found = usage.get(user.user_id)
            row = self._usage_row(found) if found else {"calls": 0, "rejects": {}, "share": 0}
            row["rest"] = user.user_id == REST_SUBJECT
            row["own"] = self.store.limits().overrides(user.user_id)
            row["user"] = user
            rows.append(row)
        return Rendered(
            "users.html",
            {
                "title": "Users",
                "users": rows,
                "defaults": self.defaults,
                "rest_defaults": self.rest_defaults,
                # (what happened, user id, key): shown once, in the answer to the form.
                "new_key": new_key,
                "services": self.store.services().list_services(),
                "service_calls": self.store.limits().service_calls(self.days.day(self.clock())),
                # (client id, client secret) of a service just created, shown once.
                "new_service": new_service,
            },
        )

    def _user_action(self, form: Mapping[str, str]) -> Rendered | Redirect:
        action = form.get("action")
        user_id = form.get("user", "").strip()
        if action == "create":
            user_id = user_id or new_user_id()
            key = new_encryption_key()
            try:
                self.store.add_user(user_id, key)
            except AlreadyExists:
                return Redirect("/console/users", f"API user {user_id} exists already.")
            return self._users_page(("created", user_id, key))
        if action == "create_service":
            name = form.get("name", "").strip()
            if not name:
                return Redirect("/console/users", "A REST service needs a name.")
            now = datetime.fromtimestamp(self.clock(), UTC)
            try:
                service = create_service(self.store, name, now)
            except AlreadyExists:
                return Redirect("/console/users", "That REST service exists already.")
            return self._users_page(new_service=(service.client_id, service.client_secret))
        if action == "rotate":
            key = new_encryption_key()
            grace = _int(form.get("grace"), "grace", []) or 0
            until = datetime.fromtimestamp(self.clock(), UTC) + timedelta(minutes=grace)
            if self.store.rotate_key(user_id, key, until if grace else None) is None:
                return Redirect("/console/users", f"No API user {user_id}.")
            return self._users_page(("given a new key", user_id, key))
        if action == "limits":
            errors: list[str] = []
            changes = _limit_changes(form, errors)
            if errors:
                return Redirect("/console/users", " ".join(errors))
            try:
                self.store.limits().update_limits(user_id, changes)
            except UnknownUser:
                return Redirect("/console/users", f"No API user {user_id}.")
            self.limits_changed()
            return Redirect("/console/users", f"Limits of {user_id} changed.")
        return Redirect("/console/users", "Unknown action.")

    def _usage(self) -> list[UsageView]:
        return usage_views(self.store, self.settings, None, self.clock())

    def _usage_row(self, view: UsageView) -> dict[str, Any]:
        usage, limits = view.usage, view.limits
        shares = [
            usage.day_calls / limits.daily_quota if limits.daily_quota else 0.0,
            usage.window_calls / limits.rate_calls if limits.rate_calls else 0.0,
            usage.in_flight / limits.concurrency if limits.concurrency else 0.0,
        ]
        return {
            "user_id": usage.user_id,
            "calls": usage.day_calls,
            "window": usage.window_calls,
            "in_flight": usage.in_flight,
            "rejects": usage.rejects,
            "limits": limits,
            "rest": usage.user_id == REST_SUBJECT,
            "share": max(shares),
        }

    # -- fault rules -------------------------------------------------------------------------------
    def faults(self, page: Page) -> Rendered | Redirect:
        faults = self.store.faults()
        if page.method == "POST":
            if page.form.get("action") == "remove":
                rule_id = _int(page.form.get("rule"), "rule", [])
                removed = faults.remove(rule_id) if rule_id is not None else 0
                return Redirect("/console/faults", "Rule removed." if removed else "No such rule.")
            text = page.form.get("rule", "").strip()
            try:
                rule = parse_rule(text, seed=self.settings.seed, operations=self.operations)
            except RuleError as exc:
                return Redirect("/console/faults", f"Not added: {exc}")
            faults.add([rule])
            return Redirect("/console/faults", "Rule added.")
        return Rendered(
            "faults.html",
            {
                "title": "Fault rules",
                "rules": [(rule, rule_text(rule)) for rule in faults.rules()],
                "consulted": self.faults_consulted,
            },
        )


# -- helpers ---------------------------------------------------------------------------------------
def _lead_row(lead: Lead) -> dict[str, Any]:
    first, last = lead.values.get("FirstName"), lead.values.get("LastName")
    return {
        "id": lead.id,
        "email": lead.email or "",
        "name": " ".join(str(v) for v in (first, last) if v),
        "company": lead.values.get("Company") or "",
        "updated": lead.updated_at,
    }


def _int(raw: str | None, what: str, errors: list[str]) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.append(f"{what} must be a whole number, not {raw!r}.")
        return None
    if not -(2**63) <= value < 2**63:
        errors.append(f"{what} is out of range.")
        return None
    return value


def _date(raw: str | None, errors: list[str]) -> datetime | None:
    if not raw or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        errors.append(f"updated since must be a date such as 2026-01-31, not {raw!r}.")
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _limit_changes(form: Mapping[str, str], errors: list[str]) -> dict[str, int | None]:
    """The limit fields the form sets: a number, or empty for the server's setting."""
    changes: dict[str, int | None] = {}
    for name in ("daily_quota", "concurrency"):
        raw = form.get(name, "").strip()
        changes[name] = None if raw == "" else _int(raw, name.replace("_", " "), errors)
    rate = form.get("rate", "").strip()
    if rate == "":
        changes["rate_calls"] = changes["rate_window_ms"] = None
    else:
        try:
            changes["rate_calls"], changes["rate_window_ms"] = parse_rate(rate)
        except ValueError as exc:
            errors.append(str(exc))
    for name, value in changes.items():
        if value is not None and value < 0:
            errors.append(f"{name} cannot be negative.")
    assert set(changes) <= set(LIMIT_FIELDS)
    return changes


def _query(params: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode(params)


def _when(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"
