"""Looking at leads from the command line: count, one lead in full, every lead in turn.

Reads only; the lookups are getLead's (``keys``), values are rendered as the wire renders
them (``fields.render``), and the walk over every lead pages by id like getMultipleLeads,
so an export holds one page at a time whatever the number of leads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from leadsync.model import Activity, Lead, LeadKeyType, StaticList
from leadsync.operations.fields import FieldCatalogue, render
from leadsync.operations.keys import LeadKey, find_all
from leadsync.store.base import ActivityQuery, LeadQuery, Store

#: Leads read per page of an export: large enough to amortise a query, small in memory.
EXPORT_PAGE = 1000
#: Activities ``leads show`` lists, newest first.
RECENT_ACTIVITIES = 10
#: The lead's own columns, before its fields, in an export.
KEY_COLUMNS = ("Id", "Email", "ForeignSysPersonId", "ForeignSysType")


@dataclass(frozen=True, slots=True)
class LeadDetail:
    lead: Lead
    lists: list[StaticList]
    #: Newest first, at most ``RECENT_ACTIVITIES``.
    activities: list[Activity]


def count(store: Store) -> int:
    with store.read() as reader:
        return reader.count_leads()


def key_for(text: str) -> LeadKey:
    """A lead id (all digits) or an email address, as getLead's key."""
    value = text.strip()
    if value.isdigit():
        return LeadKey(LeadKeyType.IDNUM, value)
    if "@" in value:
        return LeadKey(LeadKeyType.EMAIL, value)
    raise ValueError(f"{text!r} is neither a lead id nor an email address")


def details(store: Store, key: LeadKey) -> list[LeadDetail]:
    """Every lead ``key`` names (an email may name several, newest first), each with its
    static lists and recent activity; the not-found fault when none."""
    lists = store.static_lists()
    found = []
    with store.read() as reader:
        for lead in find_all(reader, key):
            member_of = [s for s in lists if reader.list_members(s.id, [lead.id])]
            query = ActivityQuery(lead_ids=(lead.id,), newest_first=True)
            found.append(LeadDetail(lead, member_of, reader.activities(query, RECENT_ACTIVITIES)))
    return found


def field_names(catalogue: FieldCatalogue) -> list[str]:
    """An export's field columns: every field but Email (a key column), by name."""
    return [f.name for f in catalogue.all() if f is not catalogue.email]


def walk(store: Store, updated_since: datetime | None = None) -> Iterator[Lead]:
    """Every lead (updated at or after ``updated_since``), in id order, a page at a time."""
    after = 0
    while True:
        with store.read() as reader:
            page = reader.leads_page(LeadQuery(after, updated_from=updated_since), EXPORT_PAGE)
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].id


def as_text(catalogue: FieldCatalogue, lead: Lead) -> dict[str, str]:
    """The lead's keys and set fields as text, as the wire writes them."""
    row = {
        "Id": str(lead.id),
        "Email": lead.email or "",
        "ForeignSysPersonId": lead.foreign_sys_person_id or "",
        "ForeignSysType": lead.foreign_sys_type or "",
    }
    for name, value in lead.values.items():
        fdef = catalogue.get(name)
        if fdef is not None and value is not None:
            row[fdef.name] = render(fdef, value)
    return row
