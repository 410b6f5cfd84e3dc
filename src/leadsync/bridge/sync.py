"""syncMultipleLeads through the upstream's Sync Leads (spec §9.2).

The request is read and validated exactly as locally (``soap.leads.read_sync_request`` and
``operations.sync.prepare_records``, against the upstream's fields); then each valid record
joins the group of its strongest key:

- ``Id``: ``updateOnly`` on ``id``; the top-level Email is not written unless Email is also
  an attribute (SOAP's key rule);
- ``ForeignSysPersonId``: ``createOrUpdate`` on the custom field ``upstream_foreign_id_field``
  (Adobe's advice); without that setting the record fails, saying so;
- ``Email``: ``createOrUpdate`` on ``email``;
- ``Email`` with ``dedupEnabled=false``: ``createDuplicate`` (as locally, the flag concerns
  records keyed by email alone).

Groups go upstream one after the other in the order of their first record, each in calls of
at most 300 records and 1 MB, so records of one call with the same key never race; a call
waits while another call of this process writes one of its keys (``ordering.KeyLocks``).
Each record gets one syncStatus, in input order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from leadsync.bridge.budget import wait_deadline
from leadsync.bridge.fields import UpstreamCatalogue, UpstreamFields
from leadsync.bridge.ordering import Key
from leadsync.bridge.upstream import OutcomeUnknown, Upstream, UpstreamError, _note
from leadsync.errors import LeadAttributeBad, MarketoError
from leadsync.model import RecordStatus, SyncOutcome, Value
from leadsync.operations.sync import PreparedRecord, SyncAction, SyncOptions, prepare_records
from leadsync.soap.handlers import CallContext, CallOutcome
from leadsync.soap.leads import read_sync_request, sync_answer

log = logging.getLogger("leadsync.bridge")
MAX_RECORDS = 300
#: Marketo refuses bodies over 1 MB; a margin for the envelope around the records.
MAX_BODY_BYTES = 1024 * 1024 - 1024


@dataclass(slots=True)
class Group:
    action: str
    lookup: str
    #: (input position, REST record)
    items: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def sync_multiple_leads(
    ctx: CallContext, upstream: Upstream, fields: UpstreamFields, foreign_field: str
) -> CallOutcome:
    known = fields.current()
    try:
        options, prepared = _validated(ctx, known)
    except LeadAttributeBad:
        # Maybe a field added upstream since the describe was read.
        known = fields.refresh()
        options, prepared = _validated(ctx, known)
    return sync_answer(forward(upstream, fields, known, prepared, options, foreign_field))


def forward(
    upstream: Upstream,
    fields: UpstreamFields,
    known: UpstreamCatalogue,
    prepared: list[PreparedRecord],
    options: SyncOptions,
    foreign_field: str,
) -> list[RecordStatus]:
    """Validated records through Sync Leads: one status per record, in order."""
    statuses: list[RecordStatus | None] = [None] * len(prepared)
    groups: dict[tuple[str, str], Group] = {}
    for position, item in enumerate(prepared):
        if item.error is not None:
            statuses[position] = RecordStatus(item.record.id or 0, SyncOutcome.FAILED, item.error)
            continue
        rest, problem = _rest_record(item, known, options.write_key_email)
        if problem is None:
            key, problem = _group_key(item, options, foreign_field, rest)
        if problem is not None:
            statuses[position] = RecordStatus(item.record.id or 0, SyncOutcome.FAILED, problem)
            continue
        groups.setdefault(key, Group(*key)).items.append((position, rest))
    first_sent = [True]
    deadline = wait_deadline(upstream.clock, upstream.settings)
    for group in groups.values():
        for chunk, encoded in _chunks(group.items):
            try:
                # Another call writing one of these keys goes first.
                with upstream.writing.holding(_keys(group, chunk), deadline):
                    _send(upstream, fields, group, chunk, encoded, prepared, statuses, first_sent)
            except MarketoError as error:
                if first_sent[0]:
                    # Nothing of the call went upstream: the whole call faults, as locally.
                    raise
                # The wait for another process's keys ran out after a group was written.
                for position, _ in chunk:
                    statuses[position] = RecordStatus(0, SyncOutcome.FAILED, _describe(error))
    return [s for s in statuses if s is not None]


def _keys(group: Group, chunk: list[tuple[int, dict[str, Any]]]) -> list[Key]:
    """The keys a write matches its records by (none for createDuplicate, which matches
    nothing); emails as Marketo compares them, without case."""
    if not group.lookup:
        return []
    return [
        (group.lookup, str(rest[group.lookup]).casefold())
        for _, rest in chunk
        if rest.get(group.lookup) is not None
    ]


def _validated(
    ctx: CallContext, known: UpstreamCatalogue
) -> tuple[SyncOptions, list[PreparedRecord]]:
    records, options = read_sync_request(ctx, known.catalogue)
    return options, prepare_records(known.catalogue, records, options)


def _group_key(
    item: PreparedRecord, options: SyncOptions, foreign_field: str, rest: dict[str, Any]
) -> tuple[tuple[str, str], str | None]:
    record = item.record
    if record.id is not None:
        rest["id"] = record.id
        if record.foreign_sys_person_id and foreign_field:
            rest[foreign_field] = record.foreign_sys_person_id
        return (SyncAction.UPDATE_ONLY.value, "id"), None
    if record.foreign_sys_person_id:
        if not foreign_field:
            return ("", ""), (
                "ForeignSysPersonId cannot be matched upstream: the bridge has no"
                " upstream_foreign_id_field (--foreign-id-field) naming the custom field that"
                " holds it"
            )
        rest[foreign_field] = record.foreign_sys_person_id
        if not item.email_attr[0] and not options.write_key_email:
            # The top-level Email is a key here: written on a new lead only (``_send``).
            rest.pop("email", None)
        return (SyncAction.CREATE_OR_UPDATE.value, foreign_field), None
    rest["email"] = item.key_email
    if not options.dedup:
        # As locally, dedupEnabled=false concerns records keyed by email alone.
        return (SyncAction.CREATE_DUPLICATE.value, ""), None
    return (SyncAction.CREATE_OR_UPDATE.value, "email"), None


def _rest_record(
    item: PreparedRecord, known: UpstreamCatalogue, write_key_email: bool
) -> tuple[dict[str, Any], str | None]:
    rest: dict[str, Any] = {}
    by_field = known.by_field
    for name, value in item.values.items():
        rest_name = by_field.get(name) or known.rest_name(name)
        if rest_name is None:
            return rest, f"field {name} cannot be written through the upstream's REST API"
        rest[rest_name] = value if value is None or type(value) is str else _json_value(value)
    if item.email_attr[0]:
        rest["email"] = item.email_attr[1]
    elif item.key_email is not None and (item.record.id is None or write_key_email):
        rest["email"] = item.key_email
    return rest, None


def _json_value(value: Value) -> Any:
    if isinstance(value, Decimal):
        # As text: a float could lose digits a currency field holds.
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


Chunk = tuple[list[tuple[int, dict[str, Any]]], bytes]


def _chunks(items: list[tuple[int, dict[str, Any]]]) -> list[Chunk]:
    """Runs of at most MAX_RECORDS records and MAX_BODY_BYTES of JSON, in order, each with
    its records encoded (a JSON array): each record is encoded once, for the size check and
    the call alike."""
    chunks: list[Chunk] = []
    for start in range(0, len(items), MAX_RECORDS):
        run = items[start : start + MAX_RECORDS]
        encoded = orjson.dumps([rest for _, rest in run])
        if len(encoded) <= MAX_BODY_BYTES:
            chunks.append((run, encoded))
            continue
        current: list[tuple[int, dict[str, Any]]] = []
        parts: list[bytes] = []
        size = 2
        for item in run:
            part = orjson.dumps(item[1])
            if current and size + len(part) + 1 > MAX_BODY_BYTES:
                chunks.append((current, b"[" + b",".join(parts) + b"]"))
                current, parts, size = [], [], 2
            current.append(item)
            parts.append(part)
            size += len(part) + 1
        if current:
            chunks.append((current, b"[" + b",".join(parts) + b"]"))
    return chunks


def _send(
    upstream: Upstream,
    fields: UpstreamFields,
    group: Group,
    chunk: list[tuple[int, dict[str, Any]]],
    encoded: bytes,
    prepared: list[PreparedRecord],
    statuses: list[RecordStatus | None],
    first_sent: list[bool],
) -> None:
    head: dict[str, Any] = {"action": group.action}
    if group.lookup:
        head["lookupField"] = group.lookup
    # The records' JSON as _chunks encoded it, inside the call's own fields.
    body = orjson.dumps(head)[:-1] + b',"input":' + encoded + b"}"

    def fail(message: str) -> None:
        for position, _ in chunk:
            statuses[position] = RecordStatus(0, SyncOutcome.FAILED, message)

    try:
        try:
            answer = upstream.call("POST", "/rest/v1/leads.json", content=body, write=True)
        except OutcomeUnknown:
            if group.action == SyncAction.CREATE_DUPLICATE.value:
                # Sending it again could make every lead twice.
                fail(
                    "20011 the upstream's answer was lost; createDuplicate is never sent"
                    " again: check the upstream before retrying"
                )
                first_sent[0] = False
                return
            # Matched by key: sending again cannot duplicate; a lead the lost call created
            # is then UPDATED.
            answer = upstream.call("POST", "/rest/v1/leads.json", content=body, write=True)
    except (MarketoError, UpstreamError, OutcomeUnknown) as error:
        if first_sent[0] and isinstance(error, MarketoError):
            # Nothing of the call went upstream: the whole call faults, as locally.
            raise
        fail(_describe(error))
        return
    first_sent[0] = False
    results = answer.get("result")
    if not isinstance(results, list) or len(results) != len(chunk):
        fail("20011 the upstream answered a different number of results")
        return
    new_emails: list[dict[str, Any]] = []
    for (position, rest), result in zip(chunk, results, strict=True):
        status = _status(result, prepared[position], fields)
        statuses[position] = status
        key_email = prepared[position].key_email
        if status.status is SyncOutcome.CREATED and key_email and "email" not in rest:
            new_emails.append({"id": status.lead_id, "email": key_email})
    if new_emails:
        # Matched by ForeignSysPersonId, the top-level Email is only a key; a lead that was
        # created gets it, as locally.
        try:
            upstream.call(
                "POST",
                "/rest/v1/leads.json",
                body={"action": "updateOnly", "lookupField": "id", "input": new_emails},
                write=True,
            )
        except (MarketoError, UpstreamError, OutcomeUnknown) as error:
            log.error("could not set the email of leads created by foreign id: %s", error)


def _status(result: Any, item: PreparedRecord, fields: UpstreamFields) -> RecordStatus:
    if not isinstance(result, dict):
        return RecordStatus(0, SyncOutcome.FAILED, "20011 unreadable result")
    state = result.get("status")
    lead_id = result.get("id")
    if state in ("created", "updated") and isinstance(lead_id, int):
        outcome = SyncOutcome.CREATED if state == "created" else SyncOutcome.UPDATED
        return RecordStatus(lead_id, outcome)
    reasons = result.get("reasons")
    parts = []
    for reason in reasons if isinstance(reasons, list) else []:
        if isinstance(reason, dict):
            code = str(reason.get("code", ""))
            _note(code=code)
            if code == "1006":
                fields.forget()
            parts.append(f"{code} {reason.get('message', '')}".strip())
    return RecordStatus(0, SyncOutcome.FAILED, "; ".join(parts) or f"upstream status {state}")


def _describe(error: Exception) -> str:
    if isinstance(error, MarketoError):
        return f"{error.code} {error.message}"
    if isinstance(error, UpstreamError):
        return f"{error.code} {error.message}"
    return f"20011 the upstream's answer was lost: {error}"
