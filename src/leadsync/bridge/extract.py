"""getMultipleLeads by update time through the upstream's bulk lead extract (spec §6.4,
§9.3): REST has no filter on ``updatedAt`` but the extract's.

One SOAP page reads one extract: created with ``filter.updatedAt`` over at most 31 days (the
extract's limit; a wider window is read as consecutive windows, each its own extract),
queued, polled with backoff for at most ``bridge_extract_wait_seconds``, then downloaded and
read as CSV with REST names, each row a lead as the other bridged reads make them
(``reads.lead_from_rest``). The stream position carries the extract's id, so the next page
downloads the same file again (Marketo keeps it 7 days) instead of extracting anew; the
last files read are also kept in memory.

What the upstream refuses is a clear fault naming why (docs/bridge.md, getMultipleLeads).
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from leadsync.bridge.fields import UpstreamCatalogue
from leadsync.bridge.reads import field_names, lead_from_rest
from leadsync.bridge.upstream import Upstream, UpstreamError, soap_error, unreachable
from leadsync.clock import Clock
from leadsync.errors import (
    AccessDenied,
    BadStreamPosition,
    ConcurrencyLimitExceeded,
    MarketoError,
    RequestLimitExceeded,
    UnsupportedOperation,
)
from leadsync.model import Lead
from leadsync.operations import positions, reads

#: The stream position kind of a bridged read by update time.
UPDATED_KIND = "bu"
#: The widest updatedAt range of one extract (Marketo's limit).
MAX_WINDOW = timedelta(days=31)
_EXPORTS = "/bulk/v1/leads/export"
#: Pauses between status polls: doubling from this, capped, jittered.
_POLL_FIRST_S = 0.25
_POLL_CAP_S = 5.0
#: Extract files kept in memory for the pages that follow.
_KEPT_FILES = 4
_RUNNING = frozenset({"created", "queued", "processing"})
#: What an export id looks like (Marketo's are UUIDs).
_EXPORT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class Extracts:
    """Runs upstream lead extracts and keeps the last files read (per process)."""

    def __init__(
        self,
        upstream: Upstream,
        clock: Clock,
        wait_seconds: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.upstream = upstream
        self._sleep = sleep
        self.clock = clock
        self.wait_seconds = wait_seconds
        self._kept: OrderedDict[str, list[Lead]] = OrderedDict()
        self._lock = threading.Lock()

    def page(
        self,
        known: UpstreamCatalogue,
        foreign: str,
        selector: reads.UpdatedSelector | None,
        position: str | None,
        size: int,
        limits: reads.ReadLimits,
    ) -> reads.LeadPage:
        if position is not None:
            export_id, after_text, start_text, end_text, latest_text, later = positions.decode(
                position, UPDATED_KIND, 6
            )
            if export_id and not _EXPORT_ID.fullmatch(export_id):
                # It becomes part of an upstream URL: never a path of the client's making.
                raise BadStreamPosition("Bad Stream Position: damaged stream position")
            after = positions.to_int(after_text)
            start, end, latest = (_time(t) for t in (start_text, end_text, latest_text))
            first_window = later != "1"
        else:
            assert selector is not None
            # The local rule first: 20022 for a window wider than a local read allows.
            reads.check_range(selector.oldest, selector.latest, limits.max_range_days)
            export_id, after, first_window = "", 0, True
            start = selector.oldest
            # An open window ends now, once: the pages that follow read the same window.
            latest = selector.latest or self.clock.now()
            if latest < start:
                # As locally: an empty window holds no lead (no extract needed to say so).
                return reads.LeadPage([], 0, "")
            end = min(start + MAX_WINDOW, latest)
        deadline = self.clock.monotonic() + self.wait_seconds
        if not export_id:
            export_id = self._extract(known, foreign, start, end, deadline)
        leads = self._leads(export_id, known, foreign)
        rest = [
            lead
            for lead in leads
            # A later window starts where the one before ended: a lead updated at that very
            # instant was read with it.
            if lead.id > after and (first_window or lead.updated_at > start)
        ]
        chosen = rest[:size]
        remaining = len(rest) - len(chosen)
        if remaining and chosen:
            where = positions.encode(
                UPDATED_KIND,
                export_id,
                chosen[-1].id,
                *(positions.from_time(t) for t in (start, end, latest)),
                "0" if first_window else "1",
            )
            return reads.LeadPage(chosen, remaining, where)
        if end < latest:
            # The next window's extract runs with the next page. REST does not count what
            # it will hold: 1 says "more".
            following = min(end + MAX_WINDOW, latest)
            where = positions.encode(
                UPDATED_KIND,
                "",
                0,
                *(positions.from_time(t) for t in (end, following, latest)),
                "1",
            )
            return reads.LeadPage(chosen, 1, where)
        return reads.LeadPage(chosen, 0, "")

    # -- the upstream's extract ---------------------------------------------------------------
    def _extract(
        self,
        known: UpstreamCatalogue,
        foreign: str,
        start: datetime,
        end: datetime,
        deadline: float,
    ) -> str:
        body = {
            "fields": field_names(known, foreign),
            "format": "CSV",
            "filter": {"updatedAt": {"startAt": start.isoformat(), "endAt": end.isoformat()}},
        }
        try:
            created = self.upstream.call("POST", f"{_EXPORTS}/create.json", body=body)
            export_id = str(_job(created).get("exportId") or "")
            if not _EXPORT_ID.fullmatch(export_id):
                raise unreachable(
                    f"bulk lead extract: create.json named no export id {export_id!r}"
                )
            self.upstream.call("POST", f"{_EXPORTS}/{export_id}/enqueue.json")
        except UpstreamError as refused:
            raise refusal(refused) from None
        self._wait(export_id, deadline)
        return export_id

    def _wait(self, export_id: str, deadline: float) -> None:
        pause = _POLL_FIRST_S
        while True:
            try:
                job = _job(self.upstream.call("GET", f"{_EXPORTS}/{export_id}/status.json"))
            except UpstreamError as refused:
                raise refusal(refused) from None
            status = str(job.get("status", "")).casefold()
            if status == "completed":
                return
            if status not in _RUNNING:
                raise unreachable(
                    f"bulk lead extract {export_id} ended {job.get('status')}:"
                    f" {job.get('errorMsg') or 'no reason given'}"
                )
            wait = random.uniform(pause / 2, pause)
            if self.clock.monotonic() + wait > deadline:
                self._cancel(export_id)
                raise unreachable(
                    f"bulk lead extract {export_id} was still {job.get('status')} after"
                    f" {self.wait_seconds} s (bridge_extract_wait_seconds); it was canceled"
                )
            self._sleep(wait)
            pause = min(pause * 2, _POLL_CAP_S)

    def _cancel(self, export_id: str) -> None:
        # Frees its place in the upstream's queue (2 running, 10 queued); a cancel that
        # fails changes nothing for the caller, whose fault says why already.
        with contextlib.suppress(UpstreamError, MarketoError):
            self.upstream.call("POST", f"{_EXPORTS}/{export_id}/cancel.json")

    def _leads(self, export_id: str, known: UpstreamCatalogue, foreign: str) -> list[Lead]:
        with self._lock:
            kept = self._kept.get(export_id)
            if kept is not None:
                self._kept.move_to_end(export_id)
                return kept
        try:
            data = self.upstream.download(f"{_EXPORTS}/{export_id}/file.json")
        except UpstreamError as refused:
            raise refusal(refused) from None
        leads = leads_from_csv(data, known, foreign)
        with self._lock:
            self._kept[export_id] = leads
            while len(self._kept) > _KEPT_FILES:
                self._kept.popitem(last=False)
        return leads


def leads_from_csv(data: bytes, known: UpstreamCatalogue, foreign: str) -> list[Lead]:
    """An extract's file (CSV, REST names in the header) as leads, in id order."""
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    leads = []
    for row in rows:
        # An empty cell is a null: the extract writes no other.
        values = {name: text for name, text in row.items() if name and text}
        identity = values.get("id", "")
        if not identity.isdigit():
            continue
        leads.append(lead_from_rest({**values, "id": int(identity)}, known, foreign))
    leads.sort(key=lambda lead: lead.id)
    return leads


def refusal(error: UpstreamError) -> MarketoError:
    """The SOAP fault for an extract the upstream refuses (docs/bridge.md)."""
    text = f"the upstream refused a bulk lead extract: {error.code} {error.message}"
    if error.code == "603":
        return AccessDenied(f"Access Denied: {text} (the API user needs the Read-Only Lead role)")
    if error.code == "1029":
        if "quota" in error.message.casefold():
            return RequestLimitExceeded(f"Request Limit Exceeded: {text}")
        return ConcurrencyLimitExceeded(f"Concurrency Limit Exceeded: {text}; retry later")
    if error.code in ("1035", "610", "703"):
        return UnsupportedOperation(
            f"Unsupported Operation: LastUpdateAtSelector needs a bulk lead extract by"
            f" updatedAt, which the upstream does not offer: {text}"
        )
    return soap_error(error, text)


def _job(answer: dict[str, object]) -> dict[str, object]:
    rows = answer.get("result")
    if isinstance(rows, Sequence) and rows and isinstance(rows[0], dict):
        return rows[0]
    raise unreachable("bulk lead extract: an answer without its job")


def _time(text: str) -> datetime:
    value = positions.to_time(text)
    if value is None:
        raise BadStreamPosition("Bad Stream Position: damaged stream position")
    return value
