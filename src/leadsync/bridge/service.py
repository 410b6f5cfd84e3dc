"""The bridge as the SOAP endpoint sees it: a table of handlers, one per bridged operation,
each journalled (docs/bridge.md, "The journal").

``SoapService`` takes this table instead of the local one when ``upstream_url`` is set;
authentication, the WSDL, the SOAP user's own limits and fault rules work as locally.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from leadsync.bridge import activities, lists, merge, multiple, reads, sync_lead
from leadsync.bridge.extract import Extracts
from leadsync.bridge.fields import UpstreamFields
from leadsync.bridge.journal import Journal
from leadsync.bridge.sync import sync_multiple_leads
from leadsync.bridge.upstream import CURRENT_TRACE, Trace, Upstream, UpstreamError, soap_error
from leadsync.clock import Clock, epoch_ms
from leadsync.config import Settings
from leadsync.errors import MarketoError
from leadsync.soap.handlers import CallContext, CallOutcome, Handler
from leadsync.store.base import Store
from leadsync.store.bridge import JournalEntry

log = logging.getLogger("leadsync.bridge")

BridgedHandler = Callable[["Bridge", CallContext], CallOutcome]


def _sync_multiple(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return sync_multiple_leads(
        ctx, bridge.upstream, bridge.fields, bridge.settings.upstream_foreign_id_field
    )


def _get_lead(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return reads.get_lead(
        ctx, bridge.upstream, bridge.fields, bridge.settings.upstream_foreign_id_field
    )


def _sync_lead(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return sync_lead.sync_lead(
        ctx, bridge.upstream, bridge.fields, bridge.settings.upstream_foreign_id_field
    )


def _list_operation(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return lists.list_operation(ctx, bridge.upstream)


def _merge(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return merge.merge_leads(
        ctx, bridge.upstream, bridge.fields, bridge.settings.upstream_foreign_id_field
    )


def _get_multiple(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return multiple.get_multiple_leads(
        ctx,
        bridge.upstream,
        bridge.fields,
        bridge.settings.upstream_foreign_id_field,
        bridge.extracts,
    )


def _activity(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return activities.get_lead_activity(
        ctx, bridge.upstream, bridge.fields, bridge.settings.upstream_foreign_id_field
    )


def _changes(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return activities.get_lead_changes(
        ctx, bridge.upstream, bridge.fields, bridge.settings.upstream_foreign_id_field
    )


def _describe(bridge: Bridge, ctx: CallContext) -> CallOutcome:
    return reads.describe_mobject(ctx, bridge.fields)


#: The operations the bridge forwards; the others are 20019 in bridge mode.
BRIDGED: dict[str, BridgedHandler] = {
    "syncMultipleLeads": _sync_multiple,
    "syncLead": _sync_lead,
    "getLead": _get_lead,
    "getMultipleLeads": _get_multiple,
    "listOperation": _list_operation,
    "mergeLeads": _merge,
    "getLeadActivity": _activity,
    "getLeadChanges": _changes,
    "describeMObject": _describe,
}


class Bridge:
    def __init__(self, store: Store, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        if settings.upstream_insecure_skip_tls_verify:
            log.warning(
                "upstream_insecure_skip_tls_verify is on: the upstream's TLS certificate is"
                " NOT verified; anyone on the path can read the upstream credentials"
            )
        self.upstream = Upstream(store, settings, clock)
        self.fields = UpstreamFields(self.upstream)
        self.extracts = Extracts(self.upstream, clock, settings.bridge_extract_wait_seconds)
        self.journal = Journal(store.bridge(), settings, clock)

    def close(self) -> None:
        self.journal.close()
        self.upstream.close()

    def handlers(self) -> dict[str, Handler]:
        return {
            name: functools.partial(self._journalled, name, handler)
            for name, handler in BRIDGED.items()
        }

    def _journalled(self, operation: str, handler: BridgedHandler, ctx: CallContext) -> CallOutcome:
        started = time.perf_counter()
        trace = Trace()
        token = CURRENT_TRACE.set(trace)
        outcome: CallOutcome | None = None
        fault: int | None = None
        error_id = ""
        try:
            try:
                outcome = handler(self, ctx)
            except UpstreamError as refused:
                raise soap_error(refused) from None
            return outcome
        except MarketoError as error:
            fault = error.code
            error_id = _error_id(error.message)
            raise
        except Exception:
            fault = 20011
            raise
        finally:
            CURRENT_TRACE.reset(token)
            entry = JournalEntry(
                at_ms=epoch_ms(self.clock),
                user_id=ctx.user.user_id,
                operation=operation,
                duration_ms=(time.perf_counter() - started) * 1000,
                records=outcome.records if outcome else 0,
                created=outcome.created if outcome else 0,
                updated=outcome.updated if outcome else 0,
                failed=outcome.failed if outcome else 0,
                request_ids=",".join(trace.request_ids),
                upstream_codes=",".join(sorted(trace.codes)),
                fault_code=fault,
                error_id=error_id,
            )
            self.journal.add(entry)


def _error_id(message: str) -> str:
    marker = "error id "
    at = message.find(marker)
    return message[at + len(marker) :].split()[0] if at >= 0 else ""
