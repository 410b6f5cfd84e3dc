"""What Marketo does when leads are synced: key precedence, dedupe, field merge, outcomes.

Knows no HTTP, XML or SQL. The whole call runs in one store transaction: request-level
problems raise before anything is written; record-level problems become FAILED statuses
and leave that record's lead untouched.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.errors import LeadAttributeBad
from leadsync.model import (
    Activity,
    ForeignSysType,
    Lead,
    LeadInput,
    RecordStatus,
    SkipReason,
    SyncOutcome,
    Value,
)
from leadsync.operations.activities import change_activities, new_lead_activities
from leadsync.operations.fields import (
    CONVERTERS,
    FieldCatalogue,
    check_characters,
    to_email,
)
from leadsync.store.base import LeadWriter, Store, email_key, field_text

_EMAIL_FIELD = "Email"
_FSP_TYPES = {t.value.casefold(): t.value for t in ForeignSysType}


class UnknownAttributePolicy(enum.StrEnum):
    #: Fault the whole call with 20105 before anything is written (mirrors syncLead).
    FAULT = "fault"
    #: Report only the offending record as FAILED.
    RECORD = "record"


class SyncAction(enum.StrEnum):
    """What a record may do to the database (the REST API's ``action``; SOAP's calls are
    all create-or-update)."""

    CREATE_OR_UPDATE = "createOrUpdate"
    CREATE_ONLY = "createOnly"
    UPDATE_ONLY = "updateOnly"
    #: Every record makes a new lead, whatever its keys match.
    CREATE_DUPLICATE = "createDuplicate"


@dataclass(frozen=True, slots=True)
class SyncOptions:
    operation: str = "syncMultipleLeads"
    dedup: bool = True
    action: SyncAction = SyncAction.CREATE_OR_UPDATE
    #: A record whose email matches several leads is skipped (REST) rather than matched to
    #: the newest of them (SOAP).
    unique_email_match: bool = False
    #: Match records by their value of this custom field instead of by their keys (REST's
    #: ``lookupField``); several leads with that value skip the record.
    lookup_field: str | None = None
    #: Write the record's top-level Email when it was matched by another key. syncLead's
    #: page says yes, syncMultipleLeads' page says no (docs/compatibility.md,
    #: "syncMultipleLeads" and "syncLead").
    write_key_email: bool = False
    unknown_attributes: UnknownAttributePolicy = UnknownAttributePolicy.FAULT


# Not frozen: a sync makes one for each value it changes, and a frozen dataclass is several
# times dearer to make.
@dataclass(slots=True)
class FieldChange:
    lead_id: int
    field: str
    old: Value
    new: Value


@dataclass(slots=True)
class SyncBatchResult:
    statuses: list[RecordStatus]
    #: The lead each record ended on (None for FAILED records), in input order.
    leads: list[Lead | None]
    changes: list[FieldChange] = field(default_factory=list)


#: More work in a sync's write: (the write, its time, the sync's result) -> activities.
AlsoInWrite = Callable[[LeadWriter, datetime, SyncBatchResult], list[Activity]]


@dataclass(slots=True)
class _Prepared:
    """A record after validation: what it asks for, in typed form."""

    record: LeadInput
    values: dict[str, Value]
    #: The Email attribute, when the record names one (None clears the email).
    email_attr: tuple[bool, str | None]
    key_email: str | None
    fsp_type: str | None
    error: str | None = None
    #: ``email_key(key_email)``, when there is a key email.
    key_email_key: str | None = None
    #: For an invalid record: the REST reason and the (field, value as sent) it concerns.
    reason: SkipReason | None = None
    subject: tuple[str, str] | None = None


class _Keys:
    """The keys a call's valid records look leads up by."""

    def __init__(self, prepared: list[_Prepared], options: SyncOptions) -> None:
        valid = [p for p in prepared if p.error is None]
        emails = {p.key_email_key for p in valid if p.key_email_key and options.dedup}
        emails |= {
            p.key_email_key
            if p.key_email_key is not None and p.email_attr[1] is p.key_email
            else email_key(p.email_attr[1])
            for p in valid
            if p.email_attr[1]
        }
        self.emails = emails
        self.fsps = {
            p.record.foreign_sys_person_id for p in valid if p.record.foreign_sys_person_id
        }
        self.cookies = {p.record.cookie for p in valid if p.record.cookie}
        self.ids = {p.record.id for p in valid if p.record.id is not None}
        field = options.lookup_field
        self.custom = (
            {text for p in valid if (text := field_text(p.values.get(field))) is not None}
            if field is not None
            else set()
        )
        self.new = sum(1 for p in valid if p.record.id is None)


def sync_leads(
    store: Store,
    catalogue: FieldCatalogue,
    records: Sequence[LeadInput],
    options: SyncOptions,
    *,
    clock: Clock = SYSTEM_CLOCK,
    also: AlsoInWrite | None = None,
) -> SyncBatchResult:
    """``also``, when given, runs in the same write once the records are resolved (a bulk
    import adds the leads to its list and records its progress there); the activities it
    returns are recorded with the sync's."""
    prepared = _prepare_all(catalogue, records, options)
    # Everything that needs no database is done before the write lock, which serialises
    # every writer.
    keys = _Keys(prepared, options)
    with store.write() as tx:
        # Read inside the write: writes commit in the order they read the clock
        # (store/base.py, "Time").
        at = clock.now()
        result = _Resolver(tx, options, at).run(prepared, keys)
        # History is written in the same transaction, so it never disagrees with the data.
        created = (
            lead
            for status, lead in zip(result.statuses, result.leads, strict=True)
            if lead is not None and status.status is SyncOutcome.CREATED
        )
        history = new_lead_activities(created, at)
        history += change_activities(catalogue, result.changes, at)
        if also is not None:
            history += also(tx, at, result)
        tx.record_activities(history)
        return result


#: A record after validation: what it asks for, typed (``values`` by field name,
#: ``email_attr``, ``key_email``), or why it fails (``error``).
PreparedRecord = _Prepared


def prepare_records(
    catalogue: FieldCatalogue, records: Sequence[LeadInput], options: SyncOptions
) -> list[PreparedRecord]:
    """Every check of a sync that needs no database, as ``sync_leads`` makes them: 20105 for
    the whole call on unknown attribute names (with the FAULT policy), each record's value,
    key and type problems as its ``error``. The bridge validates with it before anything
    goes upstream."""
    return _prepare_all(catalogue, records, options)


def _prepare_all(
    catalogue: FieldCatalogue, records: Sequence[LeadInput], options: SyncOptions
) -> list[_Prepared]:
    unknown: list[str] = []
    prepared = []
    for record in records:
        item = _prepare(catalogue, record, unknown, options)
        prepared.append(item)
    if unknown and options.unknown_attributes is UnknownAttributePolicy.FAULT:
        names = ", ".join(dict.fromkeys(unknown))
        raise LeadAttributeBad(
            f"{options.operation} operation failed: unknown fields for import: {names}"
        )
    return prepared


def _prepare(
    catalogue: FieldCatalogue, record: LeadInput, unknown: list[str], options: SyncOptions
) -> _Prepared:
    # The reader may have typed the plain text fields already; the rest follow in order.
    item = _Prepared(record, record.typed, (False, None), None, None)
    errors: list[str] = []
    if record.decode_error:
        errors.append(record.decode_error)
        item.reason = record.decode_reason or SkipReason.INVALID_VALUE
    record_unknown = []
    # The loop every attribute the reader left untyped runs through (the wire's reader has
    # typed the plain text fields already); look-ups inlined.
    exact = catalogue.exact
    values = item.values
    value: Value
    for attr_name, raw in record.attributes:
        fdef = exact.get(attr_name) or catalogue.get(attr_name)
        if fdef is None:
            record_unknown.append(attr_name)
            continue
        try:
            value = CONVERTERS[fdef.type](fdef, raw)
        except ValueError as exc:
            errors.append(str(exc))
            if item.reason is None:
                item.reason, item.subject = SkipReason.INVALID_VALUE, (fdef.name, raw)
            continue
        if fdef.name == _EMAIL_FIELD:
            item.email_attr = (True, value if isinstance(value, str) else None)
        else:
            values[fdef.name] = value
    if record_unknown:
        unknown.extend(record_unknown)
        errors.append("unknown fields for import: " + ", ".join(record_unknown))
        item.reason, item.subject = SkipReason.UNKNOWN_FIELD, (record_unknown[0], "")
    if record.email:
        try:
            # A key email the same as the Email attribute typed just now types the same.
            attr_email = item.email_attr[1]
            key_email = (
                attr_email
                if attr_email is not None and attr_email == record.email
                else to_email(catalogue.email, record.email)
            )
        except ValueError as exc:
            errors.append(str(exc))
            if item.reason is None:
                item.reason, item.subject = SkipReason.INVALID_VALUE, ("Email", record.email)
        else:
            if isinstance(key_email, str):
                item.key_email = key_email
                item.key_email_key = email_key(key_email)
    if record.foreign_sys_person_id:
        try:
            check_characters("ForeignSysPersonId", record.foreign_sys_person_id)
        except ValueError as exc:
            errors.append(str(exc))
            if item.reason is None:
                item.reason = SkipReason.INVALID_VALUE
                item.subject = ("ForeignSysPersonId", record.foreign_sys_person_id)
    if record.foreign_sys_type:
        fsp_type = _FSP_TYPES.get(record.foreign_sys_type.strip().casefold())
        if fsp_type is None:
            errors.append(
                f"ForeignSysType must be CUSTOM, SFDC or NETSUITE, not {record.foreign_sys_type!r}"
            )
        item.fsp_type = fsp_type
    if (
        record.id is None
        and not record.foreign_sys_person_id
        and not record.cookie
        and item.key_email is None
        and not errors
        and options.action is not SyncAction.CREATE_DUPLICATE
        and (options.lookup_field is None or options.lookup_field not in item.values)
    ):
        errors.append("Lead record has no key: give Id, ForeignSysPersonId or Email")
        item.reason = SkipReason.INVALID_VALUE
    if errors:
        item.error = "; ".join(errors)
    return item


class _Resolver:
    """Matches records to leads in input order, seeing the effect of earlier records."""

    def __init__(self, tx: LeadWriter, options: SyncOptions, now: datetime) -> None:
        self.tx = tx
        self.options = options
        self.now = now
        self.by_id: dict[int, Lead] = {}
        self.by_fsp: dict[str, Lead] = {}
        self.by_cookie: dict[str, Lead] = {}
        self.by_email: dict[str, Lead] = {}
        #: Emails whose newest lead moved away inside this call; looked up again on demand.
        self.stale_emails: set[str] = set()
        self.new_ids: list[int] = []
        self.pending_new: list[Lead] = []
        self.pending_ids: set[int] = set()
        self.dirty: dict[int, Lead] = {}
        self.changes: list[FieldChange] = []
        #: Email keys that name several leads (only with ``unique_email_match``).
        self.ambiguous: set[str] = set()
        #: Leads by their value of ``options.lookup_field``, newest first.
        self.by_custom: dict[str, list[Lead]] = {}
        # The options each record asks about, answered once: a SOAP call (create or update,
        # matched by its keys) then takes no branch meant for the REST API's other actions.
        self.by_keys = (
            options.action is not SyncAction.CREATE_DUPLICATE and options.lookup_field is None
        )
        self.may_create = options.action is not SyncAction.UPDATE_ONLY
        self.may_update = options.action is not SyncAction.CREATE_ONLY
        self.dedup = options.dedup

    def run(self, prepared: list[_Prepared], keys: _Keys) -> SyncBatchResult:
        tx = self.tx
        tx.lock_keys(keys.emails, keys.fsps, keys.cookies)
        # One object per lead, however many keys reached it, so that every record's changes
        # land on the same copy.
        self.by_id = tx.leads_by_ids(keys.ids) if keys.ids else {}
        self.by_fsp = self._canonical(tx.leads_by_foreign_ids(keys.fsps) if keys.fsps else {})
        self.by_cookie = self._canonical(tx.leads_by_cookies(keys.cookies) if keys.cookies else {})
        self.by_email = self._canonical(
            tx.newest_leads_by_email(keys.emails) if keys.emails else {}
        )
        if self.options.unique_email_match and keys.emails:
            self.ambiguous = tx.shared_email_keys(keys.emails)
        if self.options.lookup_field is not None and keys.custom:
            found = tx.leads_by_field(self.options.lookup_field, keys.custom)
            self.by_custom = {
                value: [self.by_id.setdefault(lead.id, lead) for lead in leads]
                for value, leads in found.items()
            }
        self.new_ids = tx.allocate_ids(keys.new)
        self.new_ids.reverse()

        statuses: list[RecordStatus] = []
        leads: list[Lead | None] = []
        for item in prepared:
            status, lead = self._one(item)
            statuses.append(status)
            leads.append(lead)
        self._flush()
        return SyncBatchResult(statuses, leads, self.changes)

    def _one(self, item: _Prepared) -> tuple[RecordStatus, Lead | None]:
        if item.error is not None:
            return RecordStatus(
                item.record.id or 0, SyncOutcome.FAILED, item.error, item.reason, item.subject
            ), None
        if not self.by_keys:
            if self.options.action is SyncAction.CREATE_DUPLICATE:
                created = self._create(item)
                return RecordStatus(created.id, SyncOutcome.CREATED), created
            return self._by_lookup_field(item)
        record = item.record
        fsp = record.foreign_sys_person_id or None
        write_key_email = self.options.write_key_email
        lead: Lead | None
        if record.id is not None:
            lead = self.by_id.get(record.id)
            if lead is None:
                return RecordStatus(
                    0, SyncOutcome.FAILED, f"Lead not found: Id {record.id}", SkipReason.NOT_FOUND
                ), None
            write_key_email = False
        elif fsp is not None:
            lead = self.by_fsp.get(fsp)
        else:
            lead = None
            if record.cookie:
                lead = self.by_cookie.get(record.cookie)
            if lead is None and item.key_email_key and self.dedup:
                lead = self._newest_by_email(item.key_email_key)
                write_key_email = False
                if self.ambiguous and lead is not None and item.key_email_key in self.ambiguous:
                    return RecordStatus(
                        0,
                        SyncOutcome.FAILED,
                        "Multiple lead match lookup criteria",
                        SkipReason.AMBIGUOUS,
                    ), None

        if fsp is not None and lead is not None:
            owner = self.by_fsp.get(fsp)
            if owner is not None and owner is not lead:
                return RecordStatus(
                    lead.id,
                    SyncOutcome.FAILED,
                    f"ForeignSysPersonId {fsp} already belongs to lead {owner.id}",
                ), None

        if lead is None:
            if not self.may_create:
                return RecordStatus(
                    0, SyncOutcome.FAILED, "Lead not found", SkipReason.NOT_FOUND
                ), None
            created = self._create(item)
            return RecordStatus(created.id, SyncOutcome.CREATED), created
        if not self.may_update:
            return RecordStatus(
                0, SyncOutcome.FAILED, "Lead already exists", SkipReason.EXISTS
            ), None
        self._update(lead, item, write_key_email)
        return RecordStatus(lead.id, SyncOutcome.UPDATED), lead

    def _by_lookup_field(self, item: _Prepared) -> tuple[RecordStatus, Lead | None]:
        field = self.options.lookup_field
        assert field is not None
        value = field_text(item.values.get(field))
        if value is None:
            return RecordStatus(
                0, SyncOutcome.FAILED, f"no value for {field}", SkipReason.INVALID_VALUE
            ), None
        leads = self.by_custom.get(value, [])
        if len(leads) > 1:
            return RecordStatus(
                0, SyncOutcome.FAILED, "Multiple lead match lookup criteria", SkipReason.AMBIGUOUS
            ), None
        if not leads:
            if not self.may_create:
                return RecordStatus(
                    0, SyncOutcome.FAILED, "Lead not found", SkipReason.NOT_FOUND
                ), None
            created = self._create(item)
            self.by_custom[value] = [created]
            return RecordStatus(created.id, SyncOutcome.CREATED), created
        if not self.may_update:
            return RecordStatus(
                0, SyncOutcome.FAILED, "Lead already exists", SkipReason.EXISTS
            ), None
        self._update(leads[0], item, False)
        return RecordStatus(leads[0].id, SyncOutcome.UPDATED), leads[0]

    # -- lookups --------------------------------------------------------------------------
    def _canonical(self, found: dict[str, Lead]) -> dict[str, Lead]:
        for key, lead in found.items():
            found[key] = self.by_id.setdefault(lead.id, lead)
        return found

    def _newest_by_email(self, key: str) -> Lead | None:
        if key in self.stale_emails:
            # The newest lead for this email changed its address earlier in this call: ask
            # the database again once it holds this call's changes so far.
            self._flush()
            found = self._canonical(self.tx.newest_leads_by_email([key]))
            if key in found:
                self.by_email[key] = found[key]
            self.stale_emails.discard(key)
        return self.by_email.get(key)

    def _index_email(self, lead: Lead, old_email: str | None, key: str | None = None) -> None:
        """Make ``lead`` the newest for its email where it is; ``key`` is its email's key
        when the caller has it."""
        if old_email is not None:
            old_key = email_key(old_email)
            if self.by_email.get(old_key) is lead:
                del self.by_email[old_key]
                self.stale_emails.add(old_key)
        if lead.email:
            if key is None:
                key = email_key(lead.email)
            if key in self.stale_emails:
                return
            current = self.by_email.get(key)
            if current is None or current.id < lead.id:
                self.by_email[key] = lead

    # -- writes ---------------------------------------------------------------------------
    def _create(self, item: _Prepared) -> Lead:
        record = item.record
        email = item.email_attr[1] if item.email_attr[0] else item.key_email
        lead = Lead(
            id=self.new_ids.pop(),
            email=email,
            foreign_sys_person_id=record.foreign_sys_person_id or None,
            foreign_sys_type=item.fsp_type if record.foreign_sys_person_id else None,
            # The record's values become the lead's: nothing else reads them after this.
            values=item.values
            if None not in item.values.values()
            else {k: v for k, v in item.values.items() if v is not None},
            created_at=self.now,
            updated_at=self.now,
            cookie=record.cookie or None,
        )
        self.pending_new.append(lead)
        self.pending_ids.add(lead.id)
        self.by_id[lead.id] = lead
        if lead.foreign_sys_person_id:
            self.by_fsp[lead.foreign_sys_person_id] = lead
        if lead.cookie:
            self.by_cookie[lead.cookie] = lead
        self._index_email(lead, None, item.key_email_key if email is item.key_email else None)
        return lead

    def _update(self, lead: Lead, item: _Prepared, write_key_email: bool) -> None:
        record = item.record
        changed = False
        for name, value in item.values.items():
            old = lead.values.get(name)
            if old != value or type(old) is not type(value):
                if value is None:
                    lead.values.pop(name, None)
                else:
                    lead.values[name] = value
                self.changes.append(FieldChange(lead.id, name, old, value))
                changed = True
        new_email: tuple[bool, str | None] = item.email_attr
        if not new_email[0] and write_key_email and item.key_email:
            new_email = (True, item.key_email)
        if new_email[0] and new_email[1] != lead.email:
            old_email = lead.email
            self.changes.append(FieldChange(lead.id, _EMAIL_FIELD, old_email, new_email[1]))
            lead.email = new_email[1]
            self._index_email(lead, old_email)
            changed = True
        fsp = record.foreign_sys_person_id or None
        if fsp is not None and fsp != lead.foreign_sys_person_id:
            if lead.foreign_sys_person_id:
                self.by_fsp.pop(lead.foreign_sys_person_id, None)
            self.changes.append(
                FieldChange(lead.id, "ForeignSysPersonId", lead.foreign_sys_person_id, fsp)
            )
            lead.foreign_sys_person_id = fsp
            self.by_fsp[fsp] = lead
            changed = True
        if fsp is not None and item.fsp_type and item.fsp_type != lead.foreign_sys_type:
            lead.foreign_sys_type = item.fsp_type
            changed = True
        if record.cookie and lead.cookie != record.cookie and record.cookie not in self.by_cookie:
            lead.cookie = record.cookie
            self.by_cookie[record.cookie] = lead
            changed = True
        if changed:
            lead.updated_at = self.now
            if lead.id not in self.pending_ids:
                self.dirty[lead.id] = lead

    def _flush(self) -> None:
        if self.pending_new:
            self.tx.insert_leads(self.pending_new)
            self.pending_new = []
            self.pending_ids = set()
        if self.dirty:
            self.tx.update_leads(list(self.dirty.values()))
            self.dirty = {}
