"""Activity endpoints."""

from __future__ import annotations

from typing import Any

from leadsync.model import FieldDef
from leadsync.operations import rest_activities as acts
from leadsync.operations.activities import ActivityKind
from leadsync.operations.rest_leads import batch_size
from leadsync.rest.routes import Reply, RestCall, endpoint


@endpoint("GET", "/rest/v1/activities/types.json")
def activity_types(call: RestCall) -> Reply:
    result = []
    for kind in acts.ACTIVITY_TYPES:
        row: dict[str, Any] = {"id": kind.id, "name": kind.name, "description": kind.description}
        if kind.primary is not None:
            row["primaryAttribute"] = {"name": kind.primary[0], "dataType": kind.primary[1]}
        row["attributes"] = [{"name": n, "dataType": t} for n, t in kind.attributes]
        result.append(row)
    return {"result": result}


@endpoint("GET", "/rest/v1/activities/pagingtoken.json")
def paging_token(call: RestCall) -> Reply:
    return {"nextPageToken": acts.paging_token(call.request.param("sinceDatetime"))}


def _page(page: acts.ActivityPage, rows: list[dict[str, Any]]) -> Reply:
    reply: Reply = {}
    if rows:
        reply["result"] = rows
    reply["nextPageToken"] = page.next_token
    reply["moreResult"] = page.more
    return reply


@endpoint("GET", "/rest/v1/activities.json")
def activities(call: RestCall) -> Reply:
    request = call.request
    labels = _labels(call)
    page = acts.activities(
        call.store,
        request.param("nextPageToken"),
        request.values("activityTypeIds"),
        request.values("leadIds"),
        request.param("listId"),
        batch_size(request.param("batchSize")),
    )
    return _page(page, [acts.activity_record(a, labels) for a in page.activities])


def _labels(call: RestCall) -> dict[str, FieldDef]:
    return {f.display_name or f.name: f for f in call.catalogue.all()}


@endpoint("GET", "/rest/v1/activities/leadchanges.json")
def lead_changes(call: RestCall) -> Reply:
    request = call.request
    page, wanted = acts.lead_changes(
        call.store,
        call.catalogue,
        request.param("nextPageToken"),
        request.values("fields"),
        request.values("leadIds"),
        request.param("listId"),
        batch_size(request.param("batchSize")),
    )
    rows = []
    for activity in page.activities:
        row = acts.activity_record(activity, wanted)
        if activity.type == ActivityKind.CHANGE_DATA_VALUE:
            fdef = wanted[activity.asset_name or ""]
            row["fields"] = [
                {
                    "id": fdef.field_id,
                    "name": fdef.rest_name or fdef.name,
                    "newValue": acts.attribute(activity, "New Value"),
                    "oldValue": acts.attribute(activity, "Old Value"),
                }
            ]
            row["attributes"] = [
                a for a in row["attributes"] if a["name"] not in ("New Value", "Old Value")
            ]
        rows.append(row)
    return _page(page, rows)


@endpoint("GET", "/rest/v1/activities/deletedleads.json")
def deleted_leads(call: RestCall) -> Reply:
    request = call.request
    page = acts.deleted_leads(
        call.store, request.param("nextPageToken"), batch_size(request.param("batchSize"))
    )
    return _page(page, [acts.activity_record(a) for a in page.activities])
