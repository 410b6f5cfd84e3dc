"""getLead and getMultipleLeads on the wire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.model import Lead
from leadsync.operations import reads
from leadsync.operations.fields import FieldCatalogue, catalogue_of
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
    return get_lead_answer(leads, catalogue_of(ctx.store.custom_fields()))


def get_lead_answer(leads: Sequence[Lead], catalogue: FieldCatalogue) -> CallOutcome:
    """The getLead response for ``leads`` (the bridge answers through it too)."""
    encoder = LeadEncoder(catalogue)
    body = f"<result><count>{len(leads)}</count>{encoder.encode_list(list(leads))}</result>"
    return CallOutcome(success("getLead", body), records=len(leads))


@dataclass(frozen=True, slots=True)
class MultipleRequest:
    selector: reads.Selector | None
    position: str | None
    batch: int | None
    include: tuple[str, ...] | None
    limits: reads.ReadLimits


def read_multiple_request(ctx: CallContext) -> MultipleRequest:
    """A getMultipleLeads request; the bridge reads its calls through this too."""
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
    return MultipleRequest(
        selector,
        child_text(params, "streamPosition"),
        int_value(xml.child(params, "batchSize"), "batchSize"),
        string_items(xml.child(params, "includeAttributes")),
        limits,
    )


@operation("getMultipleLeads")
def get_multiple_leads(ctx: CallContext) -> CallOutcome:
    request = read_multiple_request(ctx)
    page = reads.get_multiple_leads(
        ctx.store, request.selector, request.position, request.batch, request.limits
    )
    return multiple_answer(page, catalogue_of(ctx.store.custom_fields()), request.include)


def multiple_answer(
    page: reads.LeadPage, catalogue: FieldCatalogue, include_names: tuple[str, ...] | None
) -> CallOutcome:
    """The getMultipleLeads response for ``page``."""
    encoder = LeadEncoder(catalogue, reads.attribute_names(catalogue, include_names))
    body = (
        f"<result><returnCount>{len(page.leads)}</returnCount>"
        f"<remainingCount>{page.remaining}</remainingCount>"
        f"<newStreamPosition>{esc(page.position)}</newStreamPosition>"
        f"{encoder.encode_list(page.leads)}</result>"
    )
    return CallOutcome(success("getMultipleLeads", body), records=len(page.leads))
