"""getMultipleLeads through the upstream (spec §9.3).

- LeadKeySelector: Get Leads by Filter Type, paged by the local rule
  (``operations.reads.keys_page``): key order, newest first among leads sharing an email,
  each lead once.
- StaticListSelector: the list resolved (by id, or by name through Get Lists), then Get Leads
  by List ID, page by page; the stream position carries the upstream's page token.
- LastUpdateAtSelector (and the deprecated lastUpdatedAt): REST has no filter on
  ``updatedAt`` but the bulk lead extract's, which ``extract.Extracts`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leadsync.bridge.extract import UPDATED_KIND, Extracts
from leadsync.bridge.fields import UpstreamCatalogue, UpstreamFields
from leadsync.bridge.reads import field_names, find_leads, lead_from_rest
from leadsync.bridge.upstream import Upstream
from leadsync.errors import BadStreamPosition, ListNotFound, ParameterRequired
from leadsync.model import Lead, LeadKeyType
from leadsync.operations import positions, reads
from leadsync.operations.keys import LeadKey
from leadsync.soap.handlers import CallContext, CallOutcome
from leadsync.soap.reads import multiple_answer, read_multiple_request

#: The stream position kind of a bridged static list read (the upstream's token inside).
LIST_KIND = "bl"
#: Marketo's largest page of Get Leads by List ID.
MAX_PAGE = 300


def get_multiple_leads(
    ctx: CallContext,
    upstream: Upstream,
    fields: UpstreamFields,
    foreign: str,
    extracts: Extracts,
) -> CallOutcome:
    request = read_multiple_request(ctx)
    selector, position = request.selector, (request.position or "").strip() or None
    if position is None and selector is None:
        raise ParameterRequired("Parameter Required: leadSelector is missing")
    size = reads.batch_size(request.batch, request.limits.default_batch, request.limits.max_batch)
    known = fields.current()
    kind = positions.kind_of(position) if position else None
    if isinstance(selector, reads.UpdatedSelector) or kind == UPDATED_KIND:
        updated = selector if isinstance(selector, reads.UpdatedSelector) else None
        page = extracts.page(known, foreign, updated, position, size, request.limits)
    elif isinstance(selector, reads.ListSelector) or kind == LIST_KIND:
        page = _list_page(upstream, known, selector, position, size, foreign)
    elif isinstance(selector, reads.KeySelector):

        def find(key_type: LeadKeyType, values: Sequence[str]) -> Mapping[str, list[Lead]]:
            return {
                value: find_leads(upstream, known, LeadKey(key_type, value), foreign)
                for value in values
            }

        page = reads.keys_page(selector, position, size, request.limits, find)
    else:
        raise BadStreamPosition("Bad Stream Position: resend its LeadKeySelector with it")
    return multiple_answer(page, known.catalogue, request.include)


def _list_page(
    upstream: Upstream,
    known: UpstreamCatalogue,
    selector: reads.Selector | None,
    position: str | None,
    size: int,
    foreign: str,
) -> reads.LeadPage:
    token = ""
    if position is not None:
        list_text, token = positions.decode(position, LIST_KIND, 2)
        list_id = positions.to_int(list_text)
    else:
        assert isinstance(selector, reads.ListSelector)
        list_id = resolve_list(upstream, selector)
    params = {
        "fields": ",".join(field_names(known, foreign)),
        "batchSize": str(min(size, MAX_PAGE)),
    }
    if token:
        params["nextPageToken"] = token
    answer = upstream.call("GET", f"/rest/v1/lists/{list_id}/leads.json", params=params)
    rows = answer.get("result")
    leads = [
        lead_from_rest(row, known, foreign)
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, dict) and isinstance(row.get("id"), int)
    ]
    next_token = answer.get("nextPageToken")
    # Get Leads by List ID names the next page only when there is one.
    more = isinstance(next_token, str) and bool(next_token) and bool(leads)
    # REST does not count what remains: 1 says "more", 0 says "done".
    return reads.LeadPage(
        leads,
        1 if more else 0,
        positions.encode(LIST_KIND, list_id, str(next_token)) if more else "",
    )


def resolve_list(upstream: Upstream, selector: reads.ListSelector) -> int:
    """The upstream id of the list a StaticListSelector names (20111 when none)."""
    name = (selector.name or "").strip() or None
    if selector.list_id is None and name is None:
        raise ParameterRequired("Parameter Required: give staticListName or staticListId")
    if selector.list_id is not None:
        answer = upstream.call("GET", f"/rest/v1/lists/{selector.list_id}.json")
    else:
        answer = upstream.call("GET", "/rest/v1/lists.json", params={"name": name or ""})
    for row in answer.get("result") or []:
        if not isinstance(row, dict) or not isinstance(row.get("id"), int):
            continue
        if name is None or str(row.get("name", "")).strip().casefold() == name.casefold():
            return int(row["id"])
    raise ListNotFound(f"List Not Found: no static list {name or selector.list_id}")
