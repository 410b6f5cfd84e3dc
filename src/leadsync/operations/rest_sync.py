"""REST Sync Leads on the one sync: records in REST's shape become the records
``operations.sync`` takes, with the REST action and lookup field as its options.

Knows no JSON text: records arrive decoded (dicts of plain values) and leave as outcomes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadsync.clock import Clock
from leadsync.errors import BlankValue, FieldNotSupported, InvalidData, InvalidValue
from leadsync.mktows.escaping import first_not_xml
from leadsync.model import (
    Activity,
    Attribute,
    FieldDef,
    LeadInput,
    RecordStatus,
    SkipReason,
    SyncOutcome,
)
from leadsync.operations.fields import STRING_MAX_CHARS, FieldCatalogue
from leadsync.operations.rest_leads import DEFAULT_PARTITION, custom_key
from leadsync.operations.sync import (
    AlsoInWrite,
    SyncAction,
    SyncBatchResult,
    SyncOptions,
    UnknownAttributePolicy,
    sync_leads,
)
from leadsync.operations.text import plain_text
from leadsync.store.base import LeadWriter, Store

MAX_RECORDS = 300
#: Lookup fields leadsync can match on, by REST name, and the key each fills.
_LOOKUPS = {
    "email": "email",
    "id": "id",
    "cookies": "cookie",
    "sfdcLeadId": "fsp",
    "sfdcContactId": "fsp",
}
_LOOKUP_FOLDED = {name.casefold(): name for name in _LOOKUPS}
#: Read-only REST fields a record may carry; they are left as they are.
_READ_ONLY = frozenset({"createdat", "updatedat", "leadpartitionid"})
_MESSAGES = {
    SkipReason.NOT_FOUND: "Lead not found",
    SkipReason.EXISTS: "Lead already exists",
    SkipReason.AMBIGUOUS: "Multiple lead match lookup criteria",
}


@dataclass(frozen=True, slots=True)
class RestSyncRequest:
    records: Sequence[Any]
    action: str | None = None
    lookup_field: str | None = None
    partition: str | None = None


# Not frozen: one is made for each record (a bulk import's rows), and a frozen dataclass is
# several times dearer to make.
@dataclass(slots=True)
class RestOutcome:
    """One record's result: ``created``/``updated`` with an id, or ``skipped`` with reasons
    as (code, message)."""

    status: str
    lead_id: int | None = None
    reasons: tuple[tuple[str, str], ...] = ()


#: More work in a sync's write, given the records' outcomes; returns activities to record.
AlsoWithOutcomes = Callable[[LeadWriter, datetime, list[RestOutcome]], list[Activity]]


def parse_action(text: str | None) -> SyncAction:
    if text is None or not str(text).strip():
        return SyncAction.CREATE_OR_UPDATE
    for action in SyncAction:
        if action.value.casefold() == str(text).strip().casefold():
            return action
    raise InvalidValue(
        f"Invalid value '{text}' for action: createOnly, updateOnly, createOrUpdate or"
        " createDuplicate"
    )


def lookup_field(catalogue: FieldCatalogue, text: str | None) -> str | FieldDef:
    """A key (``email``, ``id``...) or the custom field records are matched by."""
    if text is None or not str(text).strip():
        return "email"
    name = str(text).strip()
    found = _LOOKUP_FOLDED.get(name.casefold())
    if found is not None:
        return found
    custom = custom_key(catalogue, name)
    if custom is not None:
        return custom
    # Marketo's social and other SFDC lookup fields (twitterId, sfdcAccountId, ...) name
    # values leadsync does not hold: refused as Marketo refuses an unsupported one.
    raise FieldNotSupported(f"Lookup field '{name}' not supported")


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """A request's options, checked: how each of its records is synced."""

    action: SyncAction
    #: The key records are matched by (``email``, ``id``...), or ``custom``.
    lookup: str
    options: SyncOptions
    #: The partition asked for, when leadsync holds none of that name.
    denied_partition: str | None = None


def plan(
    catalogue: FieldCatalogue,
    action_text: str | None,
    lookup_text: str | None,
    partition_text: str | None,
) -> SyncPlan:
    """The request-level checks of a sync (errors raise), before any record is read."""
    action = parse_action(action_text)
    looked_up = lookup_field(catalogue, lookup_text)
    custom = looked_up if isinstance(looked_up, FieldDef) else None
    # Records matched by a custom field carry no key of their own.
    lookup = "custom" if custom is not None else str(looked_up)
    partition = (partition_text or DEFAULT_PARTITION).strip()
    denied = partition if partition.casefold() != DEFAULT_PARTITION.casefold() else None
    options = SyncOptions(
        operation="syncLeads",
        dedup=action is not SyncAction.CREATE_DUPLICATE,
        action=action,
        unique_email_match=True,
        unknown_attributes=UnknownAttributePolicy.RECORD,
        lookup_field=custom.name if custom is not None else None,
    )
    return SyncPlan(action, lookup, options, denied)


def sync(
    store: Store, catalogue: FieldCatalogue, request: RestSyncRequest, clock: Clock
) -> list[RestOutcome]:
    """Validate the whole request, then sync its records; outcomes in input order."""
    checked = plan(catalogue, request.action, request.lookup_field, request.partition)
    records = request.records
    if not records:
        raise BlankValue("input cannot be blank")
    if len(records) > MAX_RECORDS:
        raise InvalidData(f"Too many records in input: {len(records)}; at most {MAX_RECORDS}")
    return sync_batch(store, catalogue, checked, records, clock)


def sync_batch(
    store: Store,
    catalogue: FieldCatalogue,
    checked: SyncPlan,
    records: Sequence[Any],
    clock: Clock,
    also: AlsoWithOutcomes | None = None,
) -> list[RestOutcome]:
    """Sync ``records`` (any number) in one write, as ``plan`` says. ``also``, when given,
    runs in that write with the records' outcomes (see ``sync_leads``)."""
    reader = RecordReader(catalogue, checked)
    return sync_inputs(store, catalogue, checked, [reader.record(r) for r in records], clock, also)


def sync_inputs(
    store: Store,
    catalogue: FieldCatalogue,
    checked: SyncPlan,
    inputs: Sequence[LeadInput],
    clock: Clock,
    also: AlsoWithOutcomes | None = None,
) -> list[RestOutcome]:
    """``sync_batch`` of records ``RecordReader`` has read already."""
    if checked.denied_partition is not None:
        reason = ("1008", f"Access denied to partition '{checked.denied_partition}'")
        denied = [RestOutcome("skipped", reasons=(reason,)) for _ in inputs]
        if also is not None:
            with store.write() as tx:
                tx.record_activities(also(tx, clock.now(), denied))
        return denied
    in_write: AlsoInWrite | None = None
    outcomes: list[RestOutcome] = []
    if also is not None:
        hook = also

        def in_write(tx: LeadWriter, at: datetime, result: SyncBatchResult) -> list[Activity]:
            outcomes[:] = [_outcome(catalogue, status) for status in result.statuses]
            return hook(tx, at, outcomes)

    result = sync_leads(store, catalogue, inputs, checked.options, clock=clock, also=in_write)
    return outcomes or [_outcome(catalogue, status) for status in result.statuses]


def known_field(catalogue: FieldCatalogue, name: str) -> bool:
    """Whether a record may name field ``name`` (1006 otherwise)."""
    folded = name.casefold()
    return (
        folded in _LOOKUP_FOLDED or folded in _READ_ONLY or catalogue.by_rest_name(name) is not None
    )


class _Kind(enum.Enum):
    """What a record's field is, by its name."""

    NOT_A_NAME = enum.auto()
    ID = enum.auto()
    EMAIL = enum.auto()
    COOKIES = enum.auto()
    #: sfdcLeadId or sfdcContactId: the lead's foreign-system person id (a lookup key only).
    FOREIGN_ID = enum.auto()
    READ_ONLY = enum.auto()
    FIELD = enum.auto()
    UNKNOWN = enum.auto()


@dataclass(frozen=True, slots=True)
class Column:
    """A record's field name, resolved: what its value becomes."""

    name: Any
    kind: _Kind
    #: The field a value of any other kind than ``plain``'s is an attribute of.
    fdef: FieldDef | None = None
    #: The plain text field (``catalogue.rest_plain``) a text value is typed for as read.
    plain: FieldDef | None = None


class RecordReader:
    """Records in REST's shape (field name -> value) become the records the sync takes.

    Names are resolved to columns once for each set of names (a bulk file's header, or the
    fields a request's records share), not once for each record.
    """

    def __init__(self, catalogue: FieldCatalogue, checked: SyncPlan) -> None:
        self.catalogue = catalogue
        self.action = checked.action
        self.lookup = checked.lookup
        self._shapes: dict[tuple[Any, ...], tuple[Column, ...]] = {}

    def columns(self, names: tuple[Any, ...]) -> tuple[Column, ...]:
        shape = self._shapes.get(names)
        if shape is None:
            shape = self._shapes[names] = tuple(self._column(name) for name in names)
        return shape

    def _column(self, name: Any) -> Column:
        if not isinstance(name, str):
            return Column(name, _Kind.NOT_A_NAME)
        plain = self.catalogue.rest_plain.get(name)
        key = _LOOKUP_FOLDED.get(name.casefold())
        if key == "id":
            return Column(name, _Kind.ID, plain=plain)
        if key == "email":
            return Column(name, _Kind.EMAIL, plain=plain)
        if key == "cookies":
            return Column(name, _Kind.COOKIES, plain=plain)
        if key is not None and _LOOKUPS[key] == "fsp":
            return Column(name, _Kind.FOREIGN_ID, plain=None)
        if name.casefold() in _READ_ONLY:
            return Column(name, _Kind.READ_ONLY, plain=plain)
        fdef = self.catalogue.by_rest_name(name)
        if fdef is None:
            return Column(name, _Kind.UNKNOWN, plain=plain)
        return Column(name, _Kind.FIELD, fdef, plain)

    def record(self, record: Any) -> LeadInput:
        """A record as decoded from JSON."""
        if type(record) is not dict:
            return LeadInput(decode_error="a record must be a JSON object")
        return self.read(self.columns(tuple(record)), record.values())

    def read(
        self,
        columns: Sequence[Column],
        values: Iterable[Any],
        *,
        skip_empty: bool = False,
        clean: bool = False,
    ) -> LeadInput:
        """The record of ``values``, one for each of ``columns``. ``skip_empty``: an empty
        text is no value at all (a bulk file's empty cell leaves its field as it is).
        ``clean``: the caller knows every text value to be at most STRING_MAX_CHARS long
        and printable (so XML can carry it: see ``first_not_xml``)."""
        item = LeadInput()
        attributes: list[Attribute] = []
        # Text for plain text fields is typed here, as the SOAP record reader does (the sync
        # applies ``typed`` first, then ``attributes``); everything else goes through the
        # sync's converters.
        typed = item.typed
        for column, value in zip(columns, values, strict=True):
            if skip_empty and value == "":
                continue
            plain = column.plain
            if (
                plain is not None
                and type(value) is str
                and (clean or (len(value) <= STRING_MAX_CHARS and first_not_xml(value) is None))
            ):
                typed[plain.name] = plain_text(value)
                continue
            if not self._one_field(item, attributes, column, value):
                return item
        item.attributes = attributes
        lookup = self.lookup
        if lookup == "custom":
            # The sync finds the value among the record's fields (and skips it when absent).
            return item
        if self.action is not SyncAction.CREATE_DUPLICATE and _missing_lookup(item, lookup):
            item.decode_error = f"Value for lookup field '{lookup}' not found"
            item.decode_reason = SkipReason.INVALID_VALUE
        return item

    def _one_field(
        self, item: LeadInput, attributes: list[Attribute], column: Column, value: Any
    ) -> bool:
        """Take one field of a record into ``item``; False when it makes the record invalid
        (``item.decode_error`` says why)."""
        kind = column.kind
        if kind is _Kind.NOT_A_NAME:
            return True
        name: str = column.name
        text = _text(value)
        if text is None:
            item.decode_error = f"Invalid value for field '{name}'"
            item.decode_reason = SkipReason.INVALID_VALUE
            return False
        action = self.action
        lookup = self.lookup
        keyed = action is not SyncAction.CREATE_DUPLICATE
        if kind is _Kind.ID:
            if lookup != "id" or action is not SyncAction.UPDATE_ONLY:
                item.decode_error = "id may only be given with lookupField id and updateOnly"
                item.decode_reason = SkipReason.INVALID_VALUE
                return False
            if not text.strip().isdigit() or not 0 < int(text) < 2**63:
                item.decode_error = f"Invalid value for field 'id' and value '{text}'"
                item.decode_reason = SkipReason.INVALID_VALUE
                return False
            item.id = int(text)
        elif kind is _Kind.EMAIL:
            attributes.append(("Email", text))
            if lookup == "email" and keyed:
                item.email = text.strip() or None
        elif kind is _Kind.COOKIES:
            if lookup == "cookies" and keyed:
                item.cookie = text.strip() or None
        elif kind is _Kind.FOREIGN_ID:
            # The key of an sfdcLeadId or sfdcContactId lookup (matched and stored as SOAP's
            # ForeignSysPersonId); with another lookup it is not a field leadsync keeps.
            if _LOOKUPS.get(lookup) == "fsp":
                item.foreign_sys_person_id = text.strip() or None
        elif kind is _Kind.UNKNOWN:
            item.decode_error = f"Field '{name}' not found"
            item.decode_reason = SkipReason.UNKNOWN_FIELD
            item.attributes = [(name, "")]
            return False
        elif kind is _Kind.FIELD:
            assert column.fdef is not None
            attributes.append((column.fdef.name, text))
        return True


def _missing_lookup(item: LeadInput, lookup: str) -> bool:
    key = _LOOKUPS[lookup]
    if key == "id":
        return item.id is None
    if key == "email":
        return item.email is None
    if key == "cookie":
        return item.cookie is None
    return item.foreign_sys_person_id is None


def _text(value: Any) -> str | None:
    """A JSON value as the text the sync types (None for one that is no field value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def _outcome(catalogue: FieldCatalogue, status: RecordStatus) -> RestOutcome:
    if status.status is SyncOutcome.CREATED:
        return RestOutcome("created", status.lead_id)
    if status.status is SyncOutcome.UPDATED:
        return RestOutcome("updated", status.lead_id)
    reason = status.reason or SkipReason.INVALID_VALUE
    return RestOutcome("skipped", reasons=((reason.value, _message(catalogue, status)),))


def _message(catalogue: FieldCatalogue, status: RecordStatus) -> str:
    """Marketo's wording for a skipped record."""
    reason = status.reason
    if reason in _MESSAGES:
        return _MESSAGES[reason]
    if status.subject is not None:
        name, value = status.subject
        fdef = catalogue.get(name)
        rest_name = (fdef.rest_name or fdef.name) if fdef is not None else name
        if reason is SkipReason.UNKNOWN_FIELD:
            return f"Field '{name}' not found"
        return f"Invalid value for field '{rest_name}' and value '{value}'"
    return status.error or "Invalid data"
