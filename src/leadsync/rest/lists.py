"""Static list endpoints."""

from __future__ import annotations

from typing import Any

from leadsync.model import StaticList
from leadsync.operations import rest_leads, rest_lists
from leadsync.operations.lists import ListAction
from leadsync.operations.rest_writes import parse_id
from leadsync.rest.leads import input_ids, lead_fields
from leadsync.rest.routes import Reply, RestCall, endpoint

WORKSPACE = "Default"


def _list(item: StaticList) -> dict[str, Any]:
    created = rest_leads.iso(item.created_at)
    return {
        "id": item.id,
        "name": item.name,
        "workspaceName": WORKSPACE,
        "createdAt": created,
        "updatedAt": created,
    }


def _paged(reply: Reply, next_token: str | None) -> Reply:
    if next_token is not None:
        reply["nextPageToken"] = next_token
    return reply


@endpoint("GET", "/rest/v1/lists.json")
def get_lists(call: RestCall) -> Reply:
    request = call.request
    page = rest_lists.lists(
        call.store,
        [parse_id(text) for text in request.values("id")],
        request.values("name"),
        rest_leads.decode_page_token(request.param("nextPageToken")),
        rest_leads.batch_size(request.param("batchSize")),
    )
    return _paged({"result": [_list(item) for item in page.items]}, page.next_token)


@endpoint("GET", "/rest/v1/lists/{id}.json")
def get_list(call: RestCall) -> Reply:
    found = rest_lists.get_list(call.store, parse_id(call.path_params["id"]))
    return {"result": [] if found is None else [_list(found)]}


@endpoint("GET", "/rest/v1/lists/{id}/leads.json")
@endpoint("GET", "/rest/v1/list/{id}/leads.json")
def leads_by_list(call: RestCall) -> Reply:
    request = call.request
    refs = lead_fields(call)
    page = rest_lists.leads_of_list(
        call.store,
        parse_id(call.path_params["id"]),
        rest_leads.decode_page_token(request.param("nextPageToken")),
        rest_leads.batch_size(request.param("batchSize")),
    )
    result = [rest_leads.lead_values(lead, refs) for lead in page.items]
    return _paged({"result": result}, page.next_token)


def _members(call: RestCall, action: ListAction) -> Reply:
    list_id = parse_id(call.path_params["id"])
    outcomes = rest_lists.change_members(call.store, list_id, action, input_ids(call), call.clock)
    result = []
    for outcome in outcomes:
        row: dict[str, Any] = {"id": outcome.lead_id, "status": outcome.status}
        if outcome.reason is not None:
            row["reasons"] = [{"code": outcome.reason[0], "message": outcome.reason[1]}]
        result.append(row)
    return {"result": result}


@endpoint("POST", "/rest/v1/lists/{id}/leads.json")
def add_to_list(call: RestCall) -> Reply:
    return _members(call, ListAction.ADD)


@endpoint("DELETE", "/rest/v1/lists/{id}/leads.json")
def remove_from_list(call: RestCall) -> Reply:
    return _members(call, ListAction.REMOVE)


@endpoint("GET", "/rest/v1/lists/{id}/leads/ismember.json")
def member_of_list(call: RestCall) -> Reply:
    return _members(call, ListAction.IS_MEMBER)
