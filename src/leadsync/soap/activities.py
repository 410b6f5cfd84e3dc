"""getLeadActivity and getLeadChanges on the wire."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.model import Activity
from leadsync.operations import history
from leadsync.operations.activities import display_name
from leadsync.operations.keys import LeadKey
from leadsync.operations.reads import Selector
from leadsync.soap.handlers import CallContext, CallOutcome, operation
from leadsync.soap.records import (
    child_text,
    datetime_value,
    int_value,
    lead_key,
    lead_selector,
    string_items,
    w3c,
)
from leadsync.soap.writer import element, success

_NIL_TYPE = '<attrType xsi:nil="true" />'


def _start_position(params: etree._Element) -> history.StartPosition:
    el = xml.child(params, "startPosition")
    if el is None or xml.is_nil(el):
        return history.StartPosition()
    return history.StartPosition(
        latest=datetime_value(xml.child(el, "latestCreatedAt"), "latestCreatedAt"),
        oldest=datetime_value(xml.child(el, "oldestCreatedAt"), "oldestCreatedAt"),
        activity_created=datetime_value(xml.child(el, "activityCreatedAt"), "activityCreatedAt"),
        offset=(child_text(el, "offset") or "").strip() or None,
    )


def _type_filter(params: etree._Element) -> history.TypeFilter:
    el = xml.child(params, "activityFilter")
    include = exclude = None
    if el is not None and not xml.is_nil(el):
        # The docs' tables call them includeAttributes/excludeAttributes; the WSDL does not.
        include = string_items(_either(el, "includeTypes", "includeAttributes"))
        exclude = string_items(_either(el, "excludeTypes", "excludeAttributes"))
    names = string_items(xml.child(params, "activityNameFilter"))
    return history.TypeFilter(include or None, exclude or None, names)


def _either(el: etree._Element, name: str, other: str) -> etree._Element | None:
    found = xml.child(el, name)
    return found if found is not None else xml.child(el, other)


def _encode_position(position: history.StartPosition) -> str:
    def when(name: str, value: datetime | None) -> str:
        return element(name, None) if value is None else f"<{name}>{w3c(value)}</{name}>"

    return (
        "<newStartPosition>"
        f"{when('latestCreatedAt', position.latest)}"
        f"{when('oldestCreatedAt', position.oldest)}"
        f"{when('activityCreatedAt', position.activity_created)}"
        f"{element('offset', position.offset)}"
        "</newStartPosition>"
    )


def _attributes(activity: Activity) -> str:
    items = "".join(
        f"<attribute><attrName>{esc(name)}</attrName>{_NIL_TYPE}"
        f"<attrValue>{esc(value)}</attrValue></attribute>"
        for name, value in activity.attributes
    )
    return f"<activityAttributes>{items}</activityAttributes>"


def _head(activity: Activity) -> str:
    return (
        f"<id>{activity.id}</id><activityDateTime>{w3c(activity.created_at)}</activityDateTime>"
        f"<activityType>{esc(display_name(activity.type))}</activityType>"
    )


def _activity_record(activity: Activity) -> str:
    return (
        f"<activityRecord>{_head(activity)}"
        f"<mktgAssetName>{esc(activity.asset_name or '')}</mktgAssetName>"
        f"{_attributes(activity)}"
        f"<campaign>{esc(activity.campaign or '')}</campaign>"
        '<personName xsi:nil="true" />'
        f"<mktPersonId>{activity.lead_id}</mktPersonId>"
        '<foreignSysId xsi:nil="true" /><orgName xsi:nil="true" />'
        '<foreignSysOrgId xsi:nil="true" />'
        "</activityRecord>"
    )


def _change_record(activity: Activity) -> str:
    campaign = "" if activity.campaign is None else f"<campaign>{esc(activity.campaign)}</campaign>"
    return (
        f"<leadChangeRecord>{_head(activity)}"
        f"{element('mktgAssetName', activity.asset_name)}"
        f"{_attributes(activity)}{campaign}"
        f"<mktPersonId>{activity.lead_id}</mktPersonId>"
        "</leadChangeRecord>"
    )


def _counts(page: history.ActivityPage) -> str:
    return (
        f"<returnCount>{len(page.activities)}</returnCount>"
        f"<remainingCount>{page.remaining}</remainingCount>"
        f"{_encode_position(page.position)}"
    )


def read_activity_request(
    ctx: CallContext,
) -> tuple[LeadKey, history.TypeFilter, history.StartPosition, int | None]:
    """getLeadActivity's lead key, type filter, start position and batch size; the bridge
    reads its calls through this too."""
    params = ctx.request.params
    return (
        lead_key(params),
        _type_filter(params),
        _start_position(params),
        int_value(xml.child(params, "batchSize"), "batchSize"),
    )


@operation("getLeadActivity")
def get_lead_activity(ctx: CallContext) -> CallOutcome:
    key, types, start, batch = read_activity_request(ctx)
    return activity_answer(history.get_lead_activity(ctx.store, key, types, start, batch))


def activity_answer(page: history.ActivityPage) -> CallOutcome:
    """The getLeadActivity response for ``page``."""
    records = "".join(map(_activity_record, page.activities))
    body = (
        f"<leadActivityList>{_counts(page)}"
        f"<activityRecordList>{records}</activityRecordList></leadActivityList>"
    )
    return CallOutcome(success("getLeadActivity", body), records=len(page.activities))


def read_changes_request(
    ctx: CallContext,
) -> tuple[history.StartPosition, history.TypeFilter, int | None, Selector | None]:
    """getLeadChanges' start position, type filter, batch size and lead selector; the bridge
    reads its calls through this too."""
    params = ctx.request.params
    return (
        _start_position(params),
        _type_filter(params),
        int_value(xml.child(params, "batchSize"), "batchSize"),
        lead_selector(xml.child(params, "leadSelector")),
    )


@operation("getLeadChanges")
def get_lead_changes(ctx: CallContext) -> CallOutcome:
    start, types, batch, selector = read_changes_request(ctx)
    page = history.get_lead_changes(
        ctx.store, start, types, batch, selector, ctx.settings.max_time_range_days
    )
    return changes_answer(page)


def changes_answer(page: history.ActivityPage) -> CallOutcome:
    """The getLeadChanges response for ``page``."""
    records = "".join(map(_change_record, page.activities))
    body = f"<result>{_counts(page)}<leadChangeRecordList>{records}</leadChangeRecordList></result>"
    return CallOutcome(success("getLeadChanges", body), records=len(page.activities))
