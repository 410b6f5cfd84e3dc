"""getLead and getMultipleLeads on the wire."""

from __future__ import annotations

from collections.abc import Sequence

from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.model import Lead
from leadsync.operations import reads
from leadsync.operations.fields import FieldCatalogue
from leadsync.soap.handlers import CallContext, CallOutcome, operation
from leadsync.soap.records import (
    LeadEncoder,
    child_text,
    datetime_value,
    int_value,
    lead_key,
    lead_selector,
    string_items,
)
from leadsync.soap.writer import success


@operation("getLead")
def get_lead(ctx: CallContext) -> CallOutcome:
    key = lead_key(ctx.request.params)
    leads = reads.get_lead(ctx.store, key)
    return get_lead_answer(leads, FieldCatalogue(ctx.store.custom_fields()))


def get_lead_answer(leads: Sequence[Lead], catalogue: FieldCatalogue) -> CallOutcome:
    """The getLead response for ``leads`` (the bridge answers through it too)."""
    encoder = LeadEncoder(catalogue)
    body = f"<result><count>{len(leads)}</count>{encoder.encode_list(list(leads))}</result>"
    return CallOutcome(success("getLead", body), records=len(leads))


@operation("getMultipleLeads")
def get_multiple_leads(ctx: CallContext) -> CallOutcome:
    params = ctx.request.params
    selector = lead_selector(xml.child(params, "leadSelector"))
    if selector is None:
        # The deprecated lastUpdatedAt parameter is a LastUpdateAtSelector without an end.
        since = datetime_value(xml.child(params, "lastUpdatedAt"), "lastUpdatedAt")
        if since is not None:
            selector = reads.UpdatedSelector(since)
    settings = ctx.settings
    limits = reads.ReadLimits(
        default_batch=settings.leads_batch_size,
        max_batch=settings.leads_batch_max,
        max_range_days=settings.max_time_range_days,
    )
    page = reads.get_multiple_leads(
        ctx.store,
        selector,
        child_text(params, "streamPosition"),
        int_value(xml.child(params, "batchSize"), "batchSize"),
        limits,
    )
    catalogue = FieldCatalogue(ctx.store.custom_fields())
    include = reads.attribute_names(catalogue, string_items(xml.child(params, "includeAttributes")))
    encoder = LeadEncoder(catalogue, include)
    body = (
        f"<result><returnCount>{len(page.leads)}</returnCount>"
        f"<remainingCount>{page.remaining}</remainingCount>"
        f"<newStreamPosition>{esc(page.position)}</newStreamPosition>"
        f"{encoder.encode_list(page.leads)}</result>"
    )
    return CallOutcome(success("getMultipleLeads", body), records=len(page.leads))
