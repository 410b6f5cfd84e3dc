"""Activity history: the types leadsync records, their attributes, and filters.

Activities are built here and written by the caller inside the same transaction as the
change they describe, so history and data never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from leadsync.errors import ActivityKeyBad, BadParameter
from leadsync.model import Activity, FieldDef, Lead, StaticList, Value
from leadsync.operations.fields import FieldCatalogue, render

#: Every value of the WSDL's ActivityType enumeration; a filter naming anything else is 20107.
WSDL_ACTIVITY_TYPES: tuple[str, ...] = (
    "VisitWebpage", "FillOutForm", "ClickLink", "SendEmail", "EmailDelivered", "EmailBounced",
    "UnsubscribeEmail", "OpenEmail", "ClickEmail", "NewLead", "ChangeDataValue", "LeadAssigned",
    "NewSFDCOpprtnty", "Wait", "RunSubflow", "RemoveFromFlow", "PushLeadToSales", "CreateTask",
    "ConvertLead", "ChangeScore", "ChangeOwner", "AddToList", "RemoveFromList", "SFDCActivity",
    "EmailBouncedSoft", "PushLeadUpdatesToSales", "DeleteLeadFromSales", "SFDCActivityUpdated",
    "SFDCMergeLeads", "MergeLeads", "ResolveConflicts", "AssocWithOpprtntyInSales",
    "DissocFromOpprtntyInSales", "UpdateOpprtntyInSales", "DeleteLead", "SendAlert",
    "SendSalesEmail", "OpenSalesEmail", "ClickSalesEmail", "AddtoSFDCCampaign",
    "RemoveFromSFDCCampaign", "ChangeStatusInSFDCCampaign", "ReceiveSalesEmail",
    "InterestingMoment", "RequestCampaign", "SalesEmailBounced", "ChangeLeadPartition",
    "ChangeRevenueStage", "ChangeRevenueStageManually", "ComputeDataValue",
    "ChangeStatusInProgression", "ChangeFieldInProgram", "EnrichWithDatacom", "ChangeSegment",
    "ResolveRuleset", "SmartCampaignTest", "SmartCampaignTestTrigger",
)  # fmt: skip
_WSDL_TYPES = {t.casefold(): t for t in WSDL_ACTIVITY_TYPES}

#: What API calls are recorded as, in the words Marketo's own history uses.
SOURCE = "Web service API"
CHANGE_REASON = "SOAP API"


class ActivityKind(enum.StrEnum):
    """The activity types leadsync records."""

    NEW_LEAD = "NewLead"
    CHANGE_DATA_VALUE = "ChangeDataValue"
    MERGE_LEADS = "MergeLeads"
    ADD_TO_LIST = "AddToList"
    REMOVE_FROM_LIST = "RemoveFromList"
    DELETE_LEAD = "DeleteLead"


DISPLAY_NAMES: dict[str, str] = {
    ActivityKind.NEW_LEAD: "New Lead",
    ActivityKind.CHANGE_DATA_VALUE: "Change Data Value",
    ActivityKind.MERGE_LEADS: "Merge Leads",
    ActivityKind.ADD_TO_LIST: "Add to List",
    ActivityKind.REMOVE_FROM_LIST: "Remove from List",
    ActivityKind.DELETE_LEAD: "Delete Lead",
}


def display_name(activity_type: str) -> str:
    """The name getLeadActivity shows (``New Lead``) for a type (``NewLead``)."""
    return DISPLAY_NAMES.get(activity_type, activity_type)


class FieldChangeLike(Protocol):
    @property
    def lead_id(self) -> int: ...
    @property
    def field(self) -> str: ...
    @property
    def old(self) -> Value: ...
    @property
    def new(self) -> Value: ...


# -- building -----------------------------------------------------------------------------
def new_lead_activities(leads: Iterable[Lead], at: datetime) -> list[Activity]:
    # Only the lead id is stored; what every New Lead says alike is added by ``presented``,
    # which keeps the write that syncMultipleLeads does for each new lead small.
    kind = ActivityKind.NEW_LEAD.value
    return [Activity(0, lead.id, kind, at, None, (("Lead ID", str(lead.id)),)) for lead in leads]


def presented(activity: Activity) -> Activity:
    """An activity with the attributes its type always shows, as clients read it."""
    if activity.type != ActivityKind.NEW_LEAD:
        return activity
    shown = (
        ("Source Type", SOURCE),
        ("Source Info", SOURCE),
        ("Created Date", activity.created_at.date().isoformat()),
        *activity.attributes,
    )
    return replace(activity, attributes=shown)


def change_activities(
    catalogue: FieldCatalogue,
    changes: Iterable[FieldChangeLike],
    at: datetime,
    reason: str = CHANGE_REASON,
) -> list[Activity]:
    kind = ActivityKind.CHANGE_DATA_VALUE.value
    found = []
    # A sync changes the same few fields of many leads: each field is looked up once.
    fields: dict[str, tuple[FieldDef | None, str]] = {}
    for change in changes:
        known = fields.get(change.field)
        if known is None:
            fdef = catalogue.get(change.field)
            label = (fdef.display_name or fdef.name) if fdef else change.field
            known = fields[change.field] = (fdef, label)
        fdef, label = known
        old = render(fdef, change.old) if fdef else _plain(change.old)
        new = render(fdef, change.new) if fdef else _plain(change.new)
        lead_id = change.lead_id
        found.append(
            Activity(
                0,
                lead_id,
                kind,
                at,
                label,
                (
                    ("Attribute Name", label),
                    ("Old Value", old),
                    ("New Value", new),
                    ("Reason", reason),
                    ("Lead ID", str(lead_id)),
                ),
            )
        )
    return found


def merge_activity(winner_id: int, loser_ids: Sequence[int], at: datetime) -> Activity:
    return Activity(
        0,
        winner_id,
        ActivityKind.MERGE_LEADS.value,
        at,
        None,
        (
            ("Merge IDs", ",".join(str(i) for i in loser_ids)),
            ("Merge Source", SOURCE),
            ("Merged in Sales", "0"),
            ("Lead ID", str(winner_id)),
        ),
    )


def delete_activities(lead_ids: Iterable[int], at: datetime) -> list[Activity]:
    kind = ActivityKind.DELETE_LEAD.value
    return [
        Activity(0, lead_id, kind, at, None, (("Source", SOURCE), ("Lead ID", str(lead_id))))
        for lead_id in lead_ids
    ]


def list_activities(
    kind: ActivityKind, static_list: StaticList, lead_ids: Iterable[int], at: datetime
) -> list[Activity]:
    return [
        Activity(
            0,
            lead_id,
            kind.value,
            at,
            static_list.name,
            (
                ("List ID", str(static_list.id)),
                ("Source", SOURCE),
                ("Lead ID", str(lead_id)),
            ),
        )
        for lead_id in lead_ids
    ]


def _plain(value: Value) -> str:
    return "" if value is None else str(value)


# -- filtering ----------------------------------------------------------------------------
def resolve_type_filter(
    include: Sequence[str] | None,
    exclude: Sequence[str] | None,
    names: Sequence[str] | None = None,
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(types to keep or None for all, types to drop) from an ActivityTypeFilter and an
    activityNameFilter.

    Type names must be WSDL ActivityType values (20107 otherwise); display names in
    ``names`` are free text, matched without regard to case or spaces.
    """
    if include and exclude:
        raise BadParameter("activityFilter may hold includeTypes or excludeTypes, not both")
    keep = frozenset(_wsdl_type(t) for t in include) if include else None
    drop = frozenset(_wsdl_type(t) for t in exclude) if exclude else frozenset()
    if names:
        named = frozenset(filter(None, (_named_type(n) for n in names)))
        keep = named if keep is None else keep & named
    return keep, drop


def _wsdl_type(text: str) -> str:
    found = _WSDL_TYPES.get(text.strip().casefold())
    if found is None:
        raise ActivityKeyBad(f"Activity Key Bad: {text.strip()!r} is not an activity type")
    return found


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


_BY_DISPLAY = {_squash(name): kind for kind, name in DISPLAY_NAMES.items()}


def _named_type(text: str) -> str | None:
    squashed = _squash(text)
    return _BY_DISPLAY.get(squashed) or _WSDL_TYPES.get(squashed) or None
