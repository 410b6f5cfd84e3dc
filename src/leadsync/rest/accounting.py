"""What an answered REST call leaves behind: its log line, its metrics and its calls-history
entry, as the SOAP endpoint's calls leave theirs (docs/rest.md, "Calls, metrics, usage").

Figures come from the reply as the client sees it: a ``result`` list is the call's records,
and items carrying a ``status`` say which were created, updated or skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leadsync.call_history import CallHistory, failure_summary, fault_summary
from leadsync.logs import call_fields
from leadsync.metrics import record_call
from leadsync.model import RecordStatus, SyncOutcome
from leadsync.store.calls import CallEntry

log = logging.getLogger("leadsync.rest")
#: The ``api`` label of this wire's calls in metrics and the calls history.
API = "rest"
#: What the identity endpoint's calls are named (Marketo's operation ids are
#: ``identityUsingGET`` and ``identityUsingPOST``).
IDENTITY_OPERATION = "identity"
_OUTCOMES = {"created": SyncOutcome.CREATED, "updated": SyncOutcome.UPDATED}


@dataclass(frozen=True, slots=True)
class Figures:
    """A successful call's records and what became of them."""

    records: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    #: Each record's outcome, kept only when some failed (for the history's summary).
    statuses: Sequence[RecordStatus] = ()


def figures(reply: Mapping[str, Any]) -> Figures:
    result = reply.get("result")
    if not isinstance(result, list):
        return Figures()
    created = updated = failed = 0
    for item in result:
        status = item.get("status") if isinstance(item, dict) else None
        if status == "created":
            created += 1
        elif status == "updated":
            updated += 1
        elif status == "skipped":
            failed += 1
    if not failed:
        return Figures(len(result), created, updated)
    return Figures(len(result), created, updated, failed, [_status(item) for item in result])


def _status(item: Any) -> RecordStatus:
    if not isinstance(item, dict):
        return RecordStatus(0, SyncOutcome.CREATED)
    lead_id = item.get("id")
    lead_id = lead_id if isinstance(lead_id, int) else 0
    if item.get("status") != "skipped":
        return RecordStatus(lead_id, _OUTCOMES.get(str(item.get("status")), SyncOutcome.UPDATED))
    reasons = item.get("reasons") or []
    error = "; ".join(f"{r.get('code')} {r.get('message')}" for r in reasons if isinstance(r, dict))
    return RecordStatus(lead_id, SyncOutcome.FAILED, error)


@dataclass(frozen=True, slots=True)
class Answered:
    """One answered call, as it is accounted for."""

    method: str
    path: str
    #: The service's client id ("-" when the call carried no valid token).
    user: str
    #: The handler's operation name, ``identity``, or ``metrics.OTHER``.
    operation: str
    seconds: float
    figures: Figures = Figures()
    #: The code the call was refused with: REST's code, or the HTTP status of an identity
    #: refusal (which has none).
    fault_code: int | None = None
    fault_message: str = ""
    error_id: str = ""
    database_error: bool = False


def account(answered: Answered, history: CallHistory | None) -> None:
    """The one place a REST call is accounted for: log line, metrics and history entry."""
    ms = answered.seconds * 1000
    found = answered.figures
    ok = answered.fault_code is None
    if log.isEnabledFor(logging.INFO):
        counts = {"created": found.created, "updated": found.updated, "failed": found.failed}
        fields = call_fields(
            user=answered.user,
            operation=answered.operation,
            outcome="ok" if ok else "fault",
            duration_ms=ms,
            records=found.records if ok else None,
            fault_code=answered.fault_code,
            error_id=answered.error_id,
            **(counts if ok else {}),
        )
        log.info(
            "rest %s %s user=%s op=%s code=%s records=%d ms=%.1f",
            answered.method,
            answered.path,
            answered.user,
            answered.operation,
            "-" if ok else answered.fault_code,
            found.records,
            ms,
            extra={"call": fields},
        )
    record_call(
        API,
        answered.operation,
        answered.seconds,
        fault_code=answered.fault_code,
        created=found.created,
        updated=found.updated,
        failed=found.failed,
        database_error=answered.database_error,
    )
    if history is None:
        return
    history.add(
        CallEntry(
            at_ms=history.now_ms(),
            user_id=answered.user,
            api=API,
            operation=answered.operation,
            duration_ms=ms,
            records=found.records,
            created=found.created,
            updated=found.updated,
            failed=found.failed,
            fault_code=answered.fault_code,
            error_id=answered.error_id,
            summary=(
                failure_summary(found.statuses)
                if found.failed
                else (fault_summary(answered.fault_message) if not ok else "")
            ),
        )
    )
