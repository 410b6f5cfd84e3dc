"""mergeLeads through the upstream: every key resolved to its lead upstream (Get Leads by
Filter Type), checked by the local rule (``operations.merge.resolve_merge``), then Merge
Leads on the winner's id, 25 losers a call (spec §9.4)."""

from __future__ import annotations

from leadsync.bridge.fields import UpstreamFields
from leadsync.bridge.reads import find_leads
from leadsync.bridge.upstream import Upstream
from leadsync.model import Lead
from leadsync.operations.keys import LeadKey, not_found
from leadsync.operations.merge import resolve_merge
from leadsync.soap.handlers import CallContext, CallOutcome, parse_bool
from leadsync.soap.merge import merge_answer, read_merge_request
from leadsync.soap.records import child_text

#: Marketo's most losers in one Merge Leads call (1080 beyond).
MAX_LOSERS = 25


def merge_leads(
    ctx: CallContext, upstream: Upstream, fields: UpstreamFields, foreign: str
) -> CallOutcome:
    winner_keys, loser_key_lists = read_merge_request(ctx)
    in_crm = parse_bool(child_text(ctx.request.params, "mergeInSales"), "mergeInSales", False)
    known = fields.current()

    def find(key: LeadKey) -> Lead:
        # The newest lead for a shared email, as locally.
        found = find_leads(upstream, known, key, foreign)
        if not found:
            raise not_found(key)
        return found[0]

    winner, losers = resolve_merge(winner_keys, loser_key_lists, find)
    ids = list(losers)
    for start in range(0, len(ids), MAX_LOSERS):
        chunk = ids[start : start + MAX_LOSERS]
        upstream.call(
            "POST",
            f"/rest/v1/leads/{winner.id}/merge.json",
            params={"leadIds": ",".join(map(str, chunk)), "mergeInCRM": str(in_crm).lower()},
            write=True,
        )
    return merge_answer(winner.id, ids)
