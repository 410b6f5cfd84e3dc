"""Lead endpoints: reads, describe, partitions."""

from __future__ import annotations

from typing import Any

from leadsync.errors import InvalidData
from leadsync.model import FieldDef
from leadsync.operations import rest_leads, rest_sync, rest_writes
from leadsync.operations.describe import field_size
from leadsync.operations.fields import FieldCatalogue
from leadsync.rest.routes import Reply, RestCall, endpoint


def lead_fields(call: RestCall) -> list[rest_leads.FieldRef]:
    names = call.request.values("fields")
    return rest_leads.read_fields(call.catalogue, names or None)


@endpoint("GET", "/rest/v1/lead/{id}.json")
def get_lead_by_id(call: RestCall) -> Reply:
    refs = lead_fields(call)
    lead = rest_leads.lead_by_id(call.store, call.path_params["id"])
    return {"result": [] if lead is None else [rest_leads.lead_values(lead, refs)]}


@endpoint("GET", "/rest/v1/leads.json")
def get_leads_by_filter(call: RestCall) -> Reply:
    request = call.request
    refs = lead_fields(call)
    page = rest_leads.leads_by_filter(
        call.store,
        call.catalogue,
        request.param("filterType"),
        request.values("filterValues"),
        rest_leads.batch_size(request.param("batchSize")),
        request.param("nextPageToken"),
    )
    reply: Reply = {"result": [rest_leads.lead_values(lead, refs) for lead in page.items]}
    if page.next_token is not None:
        reply["nextPageToken"] = page.next_token
    return reply


@endpoint("GET", "/rest/v1/leads/partitions.json")
def get_partitions(call: RestCall) -> Reply:
    return {
        "result": [
            {
                "id": rest_leads.DEFAULT_PARTITION_ID,
                "name": rest_leads.DEFAULT_PARTITION,
                "description": "Initial system lead partition",
            }
        ]
    }


def _describe_rows(catalogue: FieldCatalogue) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for name, field_id, display, data_type, read_only, soap in rest_leads.SYSTEM_FIELDS:
        row: dict[str, Any] = {"id": field_id, "displayName": display, "dataType": data_type}
        if data_type in ("string", "email"):
            row["length"] = 255
        row["rest"] = {"name": name, "readOnly": read_only}
        if soap:
            row["soap"] = {"name": soap, "readOnly": read_only and soap == "Id"}
        rows.append((field_id, row))
    next_custom = 10_000
    for fdef in catalogue.all():
        if fdef.name == "Email":
            continue
        field_id = fdef.field_id
        if not field_id:
            field_id = next_custom
            next_custom += 1
        rows.append((field_id, _describe_field(fdef, field_id)))
    rows.sort(key=lambda item: item[0])
    return rows


def _describe_field(fdef: FieldDef, field_id: int) -> dict[str, Any]:
    data_type = "integer" if fdef.type.value == "score" else fdef.type.value
    row: dict[str, Any] = {
        "id": field_id,
        "displayName": fdef.display_name or fdef.name,
        "dataType": data_type,
    }
    size = field_size(fdef.type)
    if size is not None and data_type not in ("integer", "percent", "text"):
        row["length"] = size
    rest_name = fdef.rest_name or (fdef.name if fdef.custom else "")
    if rest_name:
        row["rest"] = {"name": rest_name, "readOnly": False}
    row["soap"] = {"name": fdef.name, "readOnly": False}
    return row


@endpoint("GET", "/rest/v1/leads/describe.json")
def describe(call: RestCall) -> Reply:
    return {"result": [row for _, row in _describe_rows(call.catalogue)]}


@endpoint("GET", "/rest/v1/leads/describe2.json")
def describe2(call: RestCall) -> Reply:
    fields = []
    for _, row in _describe_rows(call.catalogue):
        rest = row.get("rest")
        if rest is None:
            continue
        fields.append(
            {
                "name": rest["name"],
                "displayName": row["displayName"],
                "dataType": row["dataType"],
                **({"length": row["length"]} if "length" in row else {}),
                "updateable": not rest["readOnly"],
                "crmManaged": False,
            }
        )
    searchable = [[name] for name in rest_leads.searchable_fields(call.catalogue)]
    return {"result": [{"name": "API Lead", "searchableFields": searchable, "fields": fields}]}


@endpoint("POST", "/rest/v1/leads.json")
def sync_leads(call: RestCall) -> Reply:
    data = call.request.json_object()
    records = data.get("input")
    if records is not None and not isinstance(records, list):
        raise InvalidData("input must be an array of lead records")
    request = rest_sync.RestSyncRequest(
        records=records or [],
        action=_text(data.get("action")),
        lookup_field=_text(data.get("lookupField")),
        partition=_text(data.get("partitionName")),
    )
    outcomes = rest_sync.sync(call.store, call.catalogue, request, call.clock)
    return {"result": [_outcome(o) for o in outcomes]}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidData(f"Invalid value '{value}'")
    return value


def _outcome(outcome: rest_sync.RestOutcome) -> dict[str, Any]:
    if outcome.status == "skipped":
        return {
            "status": "skipped",
            "reasons": [{"code": code, "message": message} for code, message in outcome.reasons],
        }
    return {"id": outcome.lead_id, "status": outcome.status}


def input_ids(call: RestCall) -> list[int]:
    """Lead ids from a JSON body's ``input: [{"id": …}]``, else from ``id=`` parameters."""
    request = call.request
    if request.body.strip() and not request.form_body:
        records = request.json_object().get("input")
        if not isinstance(records, list):
            raise InvalidData('input must be an array of {"id": …} objects')
        ids = []
        for record in records:
            if not isinstance(record, dict) or "id" not in record:
                raise InvalidData('input must be an array of {"id": …} objects')
            ids.append(rest_writes.parse_id(record["id"]))
        return ids
    # node-marketo joins several ids into one value: ``id=42%26id%3D43``.
    texts = [part for text in request.values("id") for part in text.split("&id=")]
    return [rest_writes.parse_id(text) for text in texts]


@endpoint("POST", "/rest/v1/leads/delete.json")
@endpoint("DELETE", "/rest/v1/leads.json")
def delete_leads(call: RestCall) -> Reply:
    outcomes = rest_writes.delete_leads(call.store, input_ids(call), call.clock)
    return {
        "result": [
            {"id": o.lead_id, "status": "deleted"}
            if o.deleted
            else {
                "id": o.lead_id,
                "status": "skipped",
                "reasons": [{"code": "1004", "message": "Lead not found"}],
            }
            for o in outcomes
        ]
    }


@endpoint("POST", "/rest/v1/leads/{id}/merge.json")
def merge_leads_by_id(call: RestCall) -> Reply:
    winner = rest_writes.parse_id(call.path_params["id"])
    losers = [
        rest_writes.parse_id(text)
        for name in ("leadId", "leadIds")
        for text in call.request.values(name)
    ]
    rest_writes.merge(call.store, call.catalogue, winner, losers, call.clock)
    return {}


@endpoint("POST", "/rest/v1/leads/{id}/associate.json")
def associate_lead(call: RestCall) -> Reply:
    lead_id = rest_writes.parse_id(call.path_params["id"])
    rest_writes.associate(call.store, lead_id, call.request.param("cookie"), call.clock)
    return {}


@endpoint("GET", "/rest/v1/leads/{id}/listMembership.json")
def list_membership(call: RestCall) -> Reply:
    lead_id = rest_writes.parse_id(call.path_params["id"])
    size = rest_leads.batch_size(call.request.param("batchSize"))
    after = rest_leads.decode_page_token(call.request.param("nextPageToken"))
    page = rest_leads.memberships(call.store, lead_id, after, size)
    reply: Reply = {
        "result": [
            {
                "listId": m.list_id,
                "createdAt": rest_leads.iso(m.created_at),
                "updatedAt": rest_leads.iso(m.updated_at),
            }
            for m in page.items
        ],
        "moreResult": page.next_token is not None,
    }
    if page.next_token is not None:
        reply["nextPageToken"] = page.next_token
    return reply
