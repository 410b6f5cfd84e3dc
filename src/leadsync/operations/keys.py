"""Naming leads by LeadKey: which key types leadsync can answer, and how.

leadsync holds Marketo ids, emails, Munchkin cookies and one foreign-system person id per
lead. The Salesforce lead and contact ids are foreign-system ids, so they look up
ForeignSysPersonId. Lead owners, accounts and opportunities do not exist here, so keys
naming them match nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from leadsync.errors import LeadKeyBad, LeadKeyRequired, LeadNotFound, LeadOwnerNotFound
from leadsync.model import Lead, LeadKeyType
from leadsync.store.base import LeadReader, email_key

FOREIGN_ID_KEYS = frozenset({LeadKeyType.SFDCLEADID, LeadKeyType.SFDCCONTACTID})
OWNER_KEYS = frozenset({LeadKeyType.LEADOWNEREMAIL, LeadKeyType.SFDCLEADOWNERID})
_BY_NAME = {t.value: t for t in LeadKeyType}


@dataclass(frozen=True, slots=True)
class LeadKey:
    type: LeadKeyType
    value: str

    def __str__(self) -> str:
        return f"{self.type.value} = {self.value}"


def parse_key_type(text: str | None, what: str = "keyType") -> LeadKeyType:
    """A LeadKeyRef value; 20101 when it is missing, 20102 when it is not one."""
    if text is None or not text.strip():
        raise LeadKeyRequired(f"Lead Key Required: {what} is missing")
    found = _BY_NAME.get(text.strip().upper())
    if found is None:
        raise LeadKeyBad(f"Lead Key Bad: {text.strip()!r} is not a lead key type")
    return found


def make_key(key_type: str | None, value: str | None) -> LeadKey:
    kind = parse_key_type(key_type)
    if value is None or not value.strip():
        raise LeadKeyRequired("Lead Key Required: keyValue is missing")
    return LeadKey(kind, value.strip())


def find_leads(
    reader: LeadReader, key_type: LeadKeyType, values: Sequence[str]
) -> dict[str, list[Lead]]:
    """The leads each value names, newest first; values that name none are absent."""
    found: dict[str, list[Lead]] = {}
    if key_type is LeadKeyType.IDNUM:
        ids = {v: int(v) for v in values if _is_int(v)}
        by_id = reader.leads_by_ids(set(ids.values())) if ids else {}
        for value, lead_id in ids.items():
            if lead_id in by_id:
                found[value] = [by_id[lead_id]]
    elif key_type is LeadKeyType.EMAIL:
        by_email = reader.leads_by_email({email_key(v) for v in values})
        for value in values:
            leads = by_email.get(email_key(value))
            if leads:
                found[value] = leads
    elif key_type is LeadKeyType.COOKIE:
        by_cookie = reader.leads_by_cookies(set(values))
        found = {v: [by_cookie[v]] for v in values if v in by_cookie}
    elif key_type in FOREIGN_ID_KEYS:
        by_fsp = reader.leads_by_foreign_ids(set(values))
        found = {v: [by_fsp[v]] for v in values if v in by_fsp}
    return found


def find_one(reader: LeadReader, key: LeadKey) -> Lead:
    """The lead ``key`` names (the newest one for a shared email), or the not-found fault."""
    leads = find_leads(reader, key.type, [key.value]).get(key.value)
    if not leads:
        raise not_found(key)
    return leads[0]


def find_all(reader: LeadReader, key: LeadKey) -> list[Lead]:
    leads = find_leads(reader, key.type, [key.value]).get(key.value)
    if not leads:
        raise not_found(key)
    return leads


def not_found(key: LeadKey) -> LeadNotFound | LeadOwnerNotFound:
    if key.type in OWNER_KEYS:
        return LeadOwnerNotFound(f"No lead owner found with {key}")
    return LeadNotFound(f"No lead found with {key}")


def lead_ids(groups: Iterable[list[Lead]]) -> list[int]:
    """Ids in first-seen order, each once."""
    return list(dict.fromkeys(lead.id for leads in groups for lead in leads))


def _is_int(text: str) -> bool:
    stripped = text.strip()
    return stripped.lstrip("+-").isdigit() and abs(int(stripped)) < 2**63
