"""mergeLeads on the wire: key lists are ArrayOfAttribute, attrName holding the key type."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from leadsync.mktows import xml
from leadsync.operations.fields import catalogue_of
from leadsync.operations.keys import LeadKey, make_key
from leadsync.operations.merge import merge_leads
from leadsync.soap.handlers import CallContext, CallOutcome, operation
from leadsync.soap.records import child_text
from leadsync.soap.writer import success


def _keys(el: etree._Element | None) -> list[LeadKey]:
    if el is None or xml.is_nil(el):
        return []
    return [
        make_key(child_text(attr, "attrName"), child_text(attr, "attrValue"))
        for attr in xml.children(el)
    ]


def read_merge_request(ctx: CallContext) -> tuple[list[LeadKey], list[list[LeadKey]]]:
    """The winner's keys and the losers' key lists; the bridge reads its calls through this."""
    params = ctx.request.params
    winner = _keys(xml.child(params, "winningLeadKeyList"))
    lists = xml.child(params, "losingLeadKeyLists")
    losers = [] if lists is None else [_keys(key_list) for key_list in xml.children(lists)]
    return winner, losers


@operation("mergeLeads")
def merge_leads_handler(ctx: CallContext) -> CallOutcome:
    winner, losers = read_merge_request(ctx)
    catalogue = catalogue_of(ctx.store.custom_fields())
    result = merge_leads(ctx.store, catalogue, winner, losers, clock=ctx.clock)
    return merge_answer(result.winner_id, result.loser_ids)


def merge_answer(winner_id: int, loser_ids: Sequence[int]) -> CallOutcome:
    ids = "".join(f"<integerItem>{i}</integerItem>" for i in loser_ids)
    body = (
        f"<result><mergeStatus><winningLeadId>{winner_id}</winningLeadId>"
        f"<losingLeadIdList>{ids}</losingLeadIdList><status>MERGED</status>"
        '<error xsi:nil="true" /></mergeStatus></result>'
    )
    return CallOutcome(success("mergeLeads", body), records=1 + len(loser_ids), updated=1)
