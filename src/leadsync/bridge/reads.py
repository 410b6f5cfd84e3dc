"""Reads through the upstream: getLead as Get Leads by Filter Type, describeMObject as
Describe Lead (spec §9.3).

Leads come back as the local store would hold them (``model.Lead``, values by SOAP name,
typed with the one typing function) and are answered by the very encoder the local
handlers use, so a bridged answer is shaped as a local one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from leadsync.bridge.fields import UpstreamCatalogue, UpstreamFields
from leadsync.bridge.upstream import Upstream
from leadsync.errors import LeadKeyBad
from leadsync.model import Lead, LeadKeyType, Value
from leadsync.operations.describe import describe
from leadsync.operations.fields import convert
from leadsync.operations.keys import LeadKey, not_found
from leadsync.soap.describe import describe_answer
from leadsync.soap.handlers import CallContext, CallOutcome
from leadsync.soap.reads import get_lead_answer
from leadsync.soap.records import child_text, lead_key

#: getLead's key types as Get Leads by Filter Type's filterType (spec §9.3).
FILTER_TYPES: Mapping[LeadKeyType, str] = {
    LeadKeyType.IDNUM: "id",
    LeadKeyType.EMAIL: "email",
    LeadKeyType.COOKIE: "cookies",
    LeadKeyType.SFDCLEADID: "sfdcLeadId",
    LeadKeyType.SFDCCONTACTID: "sfdcContactId",
    LeadKeyType.SFDCACCOUNTID: "sfdcAccountId",
    LeadKeyType.SFDCLEADOWNERID: "sfdcLeadOwnerId",
    LeadKeyType.SFDCOPPTYID: "sfdcOpptyId",
}
_SYSTEM = ("id", "email", "createdAt", "updatedAt")
#: Pages read for one key at most (300 leads each).
_MAX_PAGES = 10


def get_lead(
    ctx: CallContext, upstream: Upstream, fields: UpstreamFields, foreign: str
) -> CallOutcome:
    key = lead_key(ctx.request.params)
    known = fields.current()
    leads = find_leads(upstream, known, key, foreign)
    if not leads:
        raise not_found(key)
    return get_lead_answer(leads, known.catalogue)


def describe_mobject(ctx: CallContext, fields: UpstreamFields) -> CallOutcome:
    known = fields.refresh()
    return describe_answer(describe(known.catalogue, child_text(ctx.request.params, "objectName")))


def find_leads(
    upstream: Upstream, known: UpstreamCatalogue, key: LeadKey, foreign: str
) -> list[Lead]:
    """Every upstream lead ``key`` names, newest first."""
    filter_type = FILTER_TYPES.get(key.type)
    if filter_type is None:
        raise LeadKeyBad(
            f"Lead Key Bad: {key.type.value} cannot be looked up in bridge mode: Marketo's REST"
            " API has no filter for a lead owner's email"
        )
    form = {
        "_method": "GET",
        "filterType": filter_type,
        "filterValues": key.value,
        "fields": ",".join(field_names(known, foreign)),
    }
    leads: list[Lead] = []
    for _ in range(_MAX_PAGES):
        answer = upstream.call("POST", "/rest/v1/leads.json", form=form)
        rows = answer.get("result")
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("id"), int):
                leads.append(lead_from_rest(row, known, foreign))
        token = answer.get("nextPageToken")
        if not isinstance(token, str) or not token or not rows:
            break
        form = {**form, "nextPageToken": token}
    leads.sort(key=lambda lead: lead.id, reverse=True)
    return leads


def field_names(known: UpstreamCatalogue, foreign: str) -> list[str]:
    """Every REST field a read asks for: a lead's every value."""
    names = [*_SYSTEM, *sorted(set(known.rest_names.values()) - set(_SYSTEM))]
    if foreign and foreign not in names:
        names.append(foreign)
    return names


def lead_from_rest(row: Mapping[str, Any], known: UpstreamCatalogue, foreign: str) -> Lead:
    """A REST lead as the local store would hold it: values by SOAP name, typed."""
    by_rest = {rest: soap for soap, rest in known.rest_names.items()}
    values: dict[str, Value] = {}
    for rest_name, raw in row.items():
        if raw is None or rest_name in _SYSTEM or rest_name == foreign:
            continue
        soap = by_rest.get(rest_name)
        fdef = known.catalogue.get(soap) if soap is not None else None
        if fdef is None:
            continue
        try:
            value = convert(fdef, _text(raw))
        except ValueError:
            continue
        if value is not None:
            values[fdef.name] = value
    foreign_id = row.get(foreign) if foreign else None
    return Lead(
        id=int(row["id"]),
        email=row.get("email") if isinstance(row.get("email"), str) else None,
        foreign_sys_person_id=str(foreign_id) if foreign_id not in (None, "") else None,
        foreign_sys_type="CUSTOM" if foreign_id not in (None, "") else None,
        values=values,
        created_at=_time(row.get("createdAt")),
        updated_at=_time(row.get("updatedAt")),
    )


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _time(raw: Any) -> datetime:
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.fromtimestamp(0, UTC)
