"""``Client``: every call signed afresh, kept within a rate budget, retried when safe."""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from lxml import etree

from leadsync.client import envelopes
from leadsync.client.batching import MAX_BYTES, MAX_RECORDS, Batch, Batcher
from leadsync.client.errors import (
    ClientError,
    EndpointUnreachable,
    MktowsFault,
    ProtocolError,
    SyncAborted,
)
from leadsync.client.models import (
    FieldInfo,
    LastUpdateAtSelector,
    Lead,
    LeadKeySelector,
    LeadSelector,
    SyncLeadResult,
    SyncResult,
    SyncStatus,
)
from leadsync.client.pool import WorkerPool
from leadsync.client.ratelimit import RateLimiter
from leadsync.mktows.codes import FaultCode

log = logging.getLogger("leadsync.client")

T = TypeVar("T")
R = TypeVar("R")

#: Keys of a LeadKeySelector Marketo reads in one getMultipleLeads call (it ignores the rest).
MAX_KEYS_PER_CALL = 100

#: The narrowest LastUpdateAtSelector window a 20022 makes the client try.
MIN_WINDOW = timedelta(minutes=1)

#: Marketo refused more than 10 calls at once (20024); more threads would only earn faults.
MAX_CONCURRENCY = 10
DEFAULT_TIMEOUT = httpx.Timeout(90.0, connect=15.0)

Record = Lead | Mapping[str, object]


class _GaveUp(Exception):
    """A call that will not be tried again; ``unknown``: it may have been applied."""

    def __init__(self, error: ClientError, attempts: int, *, unknown: bool, fatal: bool) -> None:
        self.error = error
        self.attempts = attempts
        self.unknown = unknown
        self.fatal = fatal
        super().__init__(str(error))


class _TooWide(Exception):
    """The server refused a LastUpdateAtSelector's window as too wide (20022)."""

    def __init__(self, selector: LastUpdateAtSelector) -> None:
        self.selector = selector
        super().__init__(str(selector))


class _Dropped(ClientError):
    """The call was sent, and no readable answer came back."""


class Client:
    """A mktows client.

    ``endpoint`` is the SOAP URL (``https://host/soap/mktows/2_2``); ``user_id`` and
    ``encryption_key`` are the instance's API credentials. Use it as a context manager, or
    call ``close()``.

    Resending is safe when a call was refused before it ran (20016, 20023, 20024, no
    connection) and, for a call whose outcome is unknown (connection dropped mid-call,
    HTTP 5xx without a fault), only when it is idempotent: every read, syncLead, and
    syncMultipleLeads with ``dedup=True``. A ``dedup=False`` batch with an unknown outcome
    is reported UNKNOWN instead, unless ``allow_unsafe_retry`` is set.
    """

    def __init__(
        self,
        endpoint: str,
        user_id: str,
        encryption_key: str,
        *,
        concurrency: int = 4,
        batch_size: int = MAX_RECORDS,
        max_batch_bytes: int = MAX_BYTES,
        rate_limit: RateLimiter | str | None = "100/20",
        max_attempts: int = 8,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        allow_unsafe_retry: bool = False,
        verify: bool | str = True,
    ) -> None:
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.endpoint = endpoint
        self.user_id = user_id
        self._key = encryption_key
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.rate_limiter = (
            RateLimiter.parse(rate_limit) if isinstance(rate_limit, str) else rate_limit
        )
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.allow_unsafe_retry = allow_unsafe_retry
        self._overhead = envelopes.sync_overhead(user_id)
        self._http = httpx.Client(
            timeout=timeout,
            verify=verify,
            limits=httpx.Limits(
                max_connections=concurrency + 1, max_keepalive_connections=concurrency + 1
            ),
            headers={"Content-Type": "text/xml; charset=UTF-8", "User-Agent": "leadsync-client"},
        )
        self._pool: WorkerPool | None = None
        self._pool_lock = threading.Lock()
        self._random = random.Random()
        #: A retry's backoff in progress: until when (``time.monotonic``), and why.
        self._backoff_until = 0.0
        self._backoff_reason = ""

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._http.close()

    def __repr__(self) -> str:
        return f"Client({self.endpoint!r}, user_id={self.user_id!r})"

    # -- syncMultipleLeads ----------------------------------------------------------------------
    def sync_multiple_leads(
        self, records: Iterable[Record], dedup: bool = True
    ) -> list[SyncResult]:
        """Sync any number of records; one result per record, in input order.

        Raises SyncAborted (with every outcome known so far) when the server refuses the
        credentials, the endpoint disappears for good, or it is not a mktows endpoint.
        """
        results: list[SyncResult] = []
        try:
            results.extend(self.iter_sync_multiple_leads(records, dedup))
        except SyncAborted as exc:
            known: dict[int, object] = dict(enumerate(results))
            known.update(exc.results)
            raise SyncAborted(exc.error, known) from exc.error
        return results

    def iter_sync_multiple_leads(
        self, records: Iterable[Record], dedup: bool = True
    ) -> Iterator[SyncResult]:
        """Like ``sync_multiple_leads``, streaming: input is read and results are yielded
        as the calls complete, so memory stays flat for any number of records."""
        ready: dict[int, object] = {}
        batcher: Batcher[int] = self.batcher()

        def batches() -> Iterator[Batch[int]]:
            for index, record in enumerate(records):
                try:
                    data = self.serialize(record, batcher)
                except (ValueError, TypeError) as exc:
                    ready[index] = SyncResult(SyncStatus.FAILED, None, str(exc), 0)
                    continue
                full = batcher.add(data, index)
                if full is not None:
                    yield full
            last = batcher.flush()
            if last is not None:
                yield last

        next_index = 0
        try:
            for batch, results in self.sync_batches(batches(), dedup):
                for index, result in zip(batch.tags, results, strict=True):
                    ready[index] = result
                while next_index in ready:
                    yield ready.pop(next_index)  # type: ignore[misc]
                    next_index += 1
        except ClientError as exc:
            raise SyncAborted(exc, ready) from exc
        while next_index in ready:
            yield ready.pop(next_index)  # type: ignore[misc]
            next_index += 1

    def batcher(self) -> Batcher[Any]:
        """A Batcher sized for this client's calls (records per call, bytes per call)."""
        return Batcher(self.batch_size, self.max_batch_bytes, self._overhead)

    def serialize(self, record: Record, batcher: Batcher[Any] | None = None) -> bytes:
        """A record as a ``<leadRecord>`` fragment; ValueError when it cannot be sent."""
        lead = record if isinstance(record, Lead) else Lead.from_mapping(record)
        data = envelopes.lead_record(lead)
        if batcher is not None and not batcher.fits(data):
            raise envelopes.RecordError(
                f"record is {len(data):,} bytes of XML, more than one call may carry "
                f"({self.max_batch_bytes:,})"
            )
        return data

    def sync_batches(
        self,
        batches: Iterable[Batch[T]],
        dedup: bool = True,
        *,
        stop: threading.Event | None = None,
    ) -> Iterator[tuple[Batch[T], list[SyncResult]]]:
        """Send prepared batches ``concurrency`` at a time; yield each with its results as
        it completes (not in input order).

        After a fatal error, or once ``stop`` is set, no new batch is sent; the calls in
        flight are awaited and yielded, then the error (if any) is raised. A batch that is
        never yielded was not applied by the server.
        """
        pool = self._workers()
        safe = dedup or self.allow_unsafe_retry
        source = iter(batches)
        inflight: dict[Future[list[SyncResult]], Batch[T]] = {}
        window = self.concurrency * 2
        failure: ClientError | None = None
        exhausted = False
        try:
            while True:
                while (
                    not exhausted
                    and failure is None
                    and len(inflight) < window
                    and not (stop is not None and stop.is_set())
                ):
                    batch = next(source, None)
                    if batch is None:
                        exhausted = True
                        break
                    inflight[pool.submit(self._send_batch, batch, dedup, safe)] = batch
                if not inflight:
                    break
                done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = inflight.pop(future)
                    try:
                        results = future.result()
                    except _GaveUp as exc:
                        if failure is None:
                            failure = exc.error
                            log.error("stopping: %s", exc.error)
                        continue
                    yield batch, results
            if failure is not None:
                raise failure
        finally:
            for future in inflight:
                future.cancel()

    def _send_batch(self, batch: Batch[Any], dedup: bool, safe: bool) -> list[SyncResult]:
        count = len(batch)

        def build() -> bytes:
            return envelopes.sync_multiple_leads(self.user_id, self._key, batch.records, dedup)

        def parse(element: etree._Element) -> list[tuple[SyncStatus, int | None, str | None]]:
            statuses = envelopes.sync_statuses(element)
            if len(statuses) != count:
                raise ProtocolError(
                    f"sent {count} records and got {len(statuses)} statuses back", http_status=200
                )
            return statuses

        started = time.perf_counter()
        try:
            statuses, attempts = self._call("syncMultipleLeads", build, parse, safe=safe)
        except _GaveUp as exc:
            if exc.fatal:
                raise
            if exc.unknown and not safe:
                error = (
                    f"{exc.error}; the call may have been applied, and was not sent again "
                    "because dedup is off (resending could create duplicates)"
                )
                status = SyncStatus.UNKNOWN
            else:
                error = str(exc.error)
                if exc.attempts > 1:
                    error += f" (gave up after {exc.attempts} attempts)"
                status = SyncStatus.FAILED
            log.warning("batch %d: %d records %s: %s", batch.seq, count, status.value, error)
            return [SyncResult(status, None, error, exc.attempts)] * count
        log.debug(
            "batch %d: %d records in %.0f ms, %d attempt(s)",
            batch.seq,
            count,
            (time.perf_counter() - started) * 1000,
            attempts,
        )
        return [SyncResult(status, lead_id, error, attempts) for status, lead_id, error in statuses]

    # -- single calls ---------------------------------------------------------------------------
    def sync_lead(self, record: Record, *, return_lead: bool = False) -> SyncLeadResult:
        """syncLead: one record, optionally returning the lead as stored."""
        body = envelopes.sync_lead_body(self.serialize(record), return_lead)

        def parse(el: etree._Element) -> SyncLeadResult:
            status, lead_id, error, lead = envelopes.sync_lead_result(el)
            return SyncLeadResult(SyncResult(status, lead_id, error, 0), lead)

        result, attempts = self._single("syncLead", body, parse)
        outcome = result.result
        return SyncLeadResult(
            SyncResult(outcome.status, outcome.lead_id, outcome.error, attempts), result.lead
        )

    def get_lead(self, key_type: str, key_value: str) -> list[Lead]:
        """getLead: every lead the key finds (EMAIL can find several); [] when none."""
        body = envelopes.get_lead_body(key_type, key_value)
        try:
            leads, _ = self._single("getLead", body, envelopes.get_lead_result)
        except MktowsFault as fault:
            if fault.code == FaultCode.LEAD_NOT_FOUND:
                return []
            raise
        return leads

    def get_multiple_leads(
        self,
        selector: LeadSelector,
        *,
        batch_size: int = 100,
        include_attributes: Iterable[str] | None = None,
    ) -> Iterator[Lead]:
        """getMultipleLeads: every lead the selector finds, page after page.

        A LeadKeySelector may hold any number of keys: Marketo reads at most 100 per call
        and ignores the rest without a word, so they are sent 100 at a time. A
        LastUpdateAtSelector wider than the server allows (20022) is read in narrower
        windows. Either way a lead found twice comes back once.
        """
        include = list(include_attributes) if include_attributes is not None else None
        seen: set[int | None] = set()
        for part in self._selector_parts(selector):
            yield from self._unseen(part, batch_size, include, seen)

    def _unseen(
        self,
        selector: LeadSelector,
        batch_size: int,
        include: list[str] | None,
        seen: set[int | None],
    ) -> Iterator[Lead]:
        """The selector's leads not in ``seen`` (which they join), window by window when
        the server finds a LastUpdateAtSelector too wide."""
        try:
            for lead in self._lead_pages(selector, batch_size, include):
                if lead.id is None or lead.id not in seen:
                    seen.add(lead.id)
                    yield lead
        except _TooWide as wide:
            yield from self._by_windows(wide.selector, batch_size, include, seen)

    def _selector_parts(self, selector: LeadSelector) -> Iterator[LeadSelector]:
        if not isinstance(selector, LeadKeySelector):
            yield selector
            return
        keys = list(dict.fromkeys(selector.key_values))
        for start in range(0, len(keys), MAX_KEYS_PER_CALL):
            yield LeadKeySelector(selector.key_type, tuple(keys[start : start + MAX_KEYS_PER_CALL]))

    def _by_windows(
        self,
        selector: LastUpdateAtSelector,
        batch_size: int,
        include: list[str] | None,
        seen: set[int | None],
    ) -> Iterator[Lead]:
        """The window in two halves (a lead updated at the midpoint is in both, and comes
        back once), each split again while the server still finds it too wide."""
        assert selector.latest is not None
        if selector.latest - selector.oldest < MIN_WINDOW:
            raise ProtocolError(
                "getMultipleLeads refuses even a one-minute LastUpdateAtSelector window (20022)"
            )
        middle = selector.oldest + (selector.latest - selector.oldest) / 2
        yield from self._unseen(
            LastUpdateAtSelector(selector.oldest, middle), batch_size, include, seen
        )
        yield from self._unseen(
            LastUpdateAtSelector(middle, selector.latest), batch_size, include, seen
        )

    def _lead_pages(
        self, selector: LeadSelector, batch_size: int, include: list[str] | None
    ) -> Iterator[Lead]:
        position: str | None = None
        while True:
            body = envelopes.get_multiple_leads_body(selector, position, batch_size, include)
            try:
                (leads, remaining, new_position), _ = self._single(
                    "getMultipleLeads", body, envelopes.get_multiple_leads_result
                )
            except MktowsFault as fault:
                if fault.code == FaultCode.STREAM_AT_END and position is not None:
                    return
                if (
                    fault.code == FaultCode.TIME_RANGE_EXCEEDED
                    and position is None
                    and isinstance(selector, LastUpdateAtSelector)
                    and selector.latest is not None
                ):
                    raise _TooWide(selector) from None
                raise
            yield from leads
            if remaining <= 0:
                return
            if not new_position:
                # Stopping here would hand back part of the answer as if it were all of it.
                raise ProtocolError(
                    f"getMultipleLeads reported {remaining} more lead(s) but no stream"
                    " position to read them from"
                )
            if new_position == position and not leads:
                raise ProtocolError("getMultipleLeads returned the same stream position twice")
            position = new_position

    def describe_lead_fields(self) -> list[FieldInfo]:
        """describeMObject(LeadRecord): the lead fields the server knows, with their types."""
        fields, _ = self._single(
            "describeMObject", envelopes.describe_body("LeadRecord"), envelopes.describe_result
        )
        return fields

    def probe_lead_fields(self) -> list[FieldInfo] | None:
        """``describe_lead_fields`` tried once, quickly: None when the server lacks the
        operation (20019). Bad credentials and an unreachable endpoint raise, so a caller
        can stop before sending anything."""
        body = envelopes.describe_body("LeadRecord")
        try:
            fields, _ = self._single(
                "describeMObject", body, envelopes.describe_result, max_attempts=2
            )
        except MktowsFault as fault:
            if fault.code == FaultCode.UNSUPPORTED_OPERATION:
                return None
            raise
        return fields

    def _single(
        self,
        operation: str,
        body: str,
        parse: Callable[[etree._Element], R],
        *,
        max_attempts: int | None = None,
    ) -> tuple[R, int]:
        def build() -> bytes:
            return envelopes.request(self.user_id, self._key, operation, body)

        try:
            return self._call(operation, build, parse, safe=True, max_attempts=max_attempts)
        except _GaveUp as exc:
            raise exc.error from None

    # -- one call, with retries -----------------------------------------------------------------
    def _call(
        self,
        operation: str,
        build: Callable[[], bytes],
        parse: Callable[[etree._Element], R],
        *,
        safe: bool,
        max_attempts: int | None = None,
    ) -> tuple[R, int]:
        limit = max_attempts or self.max_attempts
        attempt = 0
        while True:
            attempt += 1
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            outcome, sent = self._attempt(operation, build, parse)
            if not isinstance(outcome, ClientError):
                return outcome, attempt
            error = outcome
            if isinstance(error, MktowsFault) and not error.retryable:
                raise _GaveUp(error, attempt, unknown=False, fatal=error.fatal)
            if isinstance(error, ProtocolError) and not sent:
                raise _GaveUp(error, attempt, unknown=False, fatal=True)
            if sent and not safe:
                raise _GaveUp(error, attempt, unknown=True, fatal=False)
            if attempt >= limit:
                fatal = isinstance(error, EndpointUnreachable) or (
                    isinstance(error, MktowsFault) and error.code == FaultCode.REQUEST_EXPIRED
                )
                raise _GaveUp(error, attempt, unknown=sent, fatal=fatal)
            delay = self._backoff(attempt, error)
            if isinstance(error, MktowsFault) and error.code == 20023 and self.rate_limiter:
                self.rate_limiter.pause(delay)
            log.warning(
                "%s: %s; attempt %d of %d, retrying in %.2f s",
                operation,
                error,
                attempt,
                limit,
                delay,
            )
            if delay > 0:
                self._backoff_until = max(self._backoff_until, time.monotonic() + delay)
                self._backoff_reason = f"retrying after {_short(error)}"
                time.sleep(delay)

    def _attempt(
        self, operation: str, build: Callable[[], bytes], parse: Callable[[etree._Element], R]
    ) -> tuple[R | ClientError, bool]:
        """One call: its parsed result, or the error and whether the server may have run it."""
        headers = {"SOAPAction": f'"{envelopes.soap_action(operation)}"'}
        try:
            response = self._http.post(self.endpoint, content=build(), headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return EndpointUnreachable(f"cannot reach {self.endpoint}: {_reason(exc)}"), False
        except httpx.UnsupportedProtocol as exc:
            return ProtocolError(f"cannot call {self.endpoint}: {_reason(exc)}"), False
        except httpx.TransportError as exc:
            return _Dropped(f"the connection failed mid-call ({_reason(exc)})"), True
        status = response.status_code
        try:
            element = envelopes.success(response.content, operation, status)
            return parse(element), True
        except MktowsFault as fault:
            # A fault is an answer: the server refused the call as a whole.
            return fault, False
        except ProtocolError as exc:
            if status == 200:
                unreadable = f"unreadable answer to {operation}: {exc}"
                return ProtocolError(unreadable, http_status=200), True
            reason = f"HTTP {status} {response.reason_phrase}".strip()
            if status >= 500:
                return _Dropped(f"{reason} without a SOAP fault"), True
            return (
                ProtocolError(
                    f"{reason} from {self.endpoint}: not a mktows endpoint?", http_status=status
                ),
                False,
            )

    def _backoff(self, attempt: int, error: ClientError) -> float:
        if (
            isinstance(error, MktowsFault)
            and error.code == FaultCode.REQUEST_EXPIRED
            and attempt == 1
        ):
            return 0.0  # the fresh signature of the next attempt is the whole fix
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    def waiting(self) -> str | None:
        """What holds the calls back right now, for a progress display ("rate limit
        100/20s, 12 s", "retrying after 20023 Rate Limit Exceeded, 3 s"); None when
        nothing does."""
        limiter = self.rate_limiter
        if limiter is not None:
            seconds = limiter.waiting()
            if seconds > 0:
                return f"rate limit {limiter}, {math.ceil(seconds)} s"
        seconds = self._backoff_until - time.monotonic()
        if seconds > 0:
            return f"{self._backoff_reason}, {math.ceil(seconds)} s"
        return None

    def _workers(self) -> WorkerPool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = WorkerPool(self.concurrency)
            return self._pool


def _short(error: ClientError) -> str:
    if isinstance(error, MktowsFault):
        return error.faultstring or f"fault {error.code}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    # Connection errors arrive as "[Errno 111] Connection refused".
    if text.startswith("[Errno") and "]" in text:
        text = text.split("]", 1)[1].strip()
    return text.splitlines()[0]
