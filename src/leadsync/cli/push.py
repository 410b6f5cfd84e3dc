"""``leadsync push``: a CSV file into any mktows endpoint, every row accounted for.

Exit codes: 0 every row created or updated; 1 some rows failed (see the rejects file);
2 nothing more could be done (bad usage, unreachable endpoint, refused credentials);
130 interrupted (``--resume`` continues).
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from leadsync.cli import main
from leadsync.client import Client, ClientError, EndpointUnreachable, MktowsFault, RateLimiter
from leadsync.client.batching import MAX_BYTES, Batcher
from leadsync.client.csvsource import Columns, CsvSource, SourceError, parse_map
from leadsync.client.envelopes import sync_overhead
from leadsync.client.models import FieldInfo
from leadsync.client.push import (
    BatchSender,
    Counts,
    Progress,
    PushEngine,
    PushError,
    PushOptions,
    RowPreparer,
    default_output_paths,
    dry_run,
)
from leadsync.client.validate import FieldValidator
from leadsync.mktows.codes import FaultCode

#: Problems printed one per line; the rest are only counted (all are in the results file).
MAX_PROBLEMS_SHOWN = 20
EXIT_FAILED_ROWS = 1
EXIT_STOPPED = 2
EXIT_INTERRUPTED = 130


F = TypeVar("F", bound=Callable[..., Any])


class PushStopped(click.ClickException):
    exit_code = EXIT_STOPPED


#: Options push and ``leads import`` share, declared once.
map_option = click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Rename a column to a field (repeatable); COLUMN= leaves the column out.",
)
dedup_option = click.option(
    "--dedup/--no-dedup", default=True, help="Match existing leads by email. [on]"
)
batch_size_option = click.option(
    "--batch-size", type=click.IntRange(1, 1000), default=300, show_default=True
)


def csv_format_options(command: F) -> F:
    command = click.option("--encoding", default="utf-8", show_default=True)(command)
    return click.option(
        "--delimiter", default=",", show_default=True, help="One character, or 'tab'."
    )(command)


def output_options(command: F) -> F:
    command = click.option(
        "--send-blanks", is_flag=True, help="Send empty cells, clearing those fields."
    )(command)
    command = click.option("--rejects", "rejects_path", metavar="PATH", help="[FILE.rejects.csv]")(
        command
    )
    return click.option("--results", "results_path", metavar="PATH", help="[FILE.results.csv]")(
        command
    )


def open_csv(
    file: str, maps: tuple[str, ...], delimiter: str, encoding: str
) -> tuple[CsvSource, dict[str, str]]:
    """The input and its ``--map``, or stop with one line."""
    if delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    try:
        return CsvSource(file, delimiter=delimiter, encoding=encoding), parse_map(maps)
    except SourceError as exc:
        raise PushStopped(str(exc)) from None


def columns_of(source: CsvSource, mapping: dict[str, str]) -> Columns:
    try:
        return Columns.from_header(source.header, mapping)
    except SourceError as exc:
        raise PushStopped(str(exc)) from None


def push_options(
    file: str,
    results_path: str | None,
    rejects_path: str | None,
    dedup: bool,
    resume: bool,
    send_blanks: bool,
    mapping: dict[str, str],
) -> PushOptions:
    default_results, default_rejects = default_output_paths(file)
    return PushOptions(
        results_path=results_path or default_results,
        rejects_path=rejects_path or default_rejects,
        dedup=dedup,
        resume=resume,
        send_blanks=send_blanks,
        mapping=mapping,
    )


@main.command("push")
@click.argument("file", metavar="FILE.csv")
@click.option("--endpoint", envvar="LEADSYNC_ENDPOINT", metavar="URL", help="The SOAP endpoint.")
@click.option("--user-id", envvar="LEADSYNC_USER_ID", metavar="ID", help="mktowsUserId.")
@click.option(
    "--encryption-key", envvar="LEADSYNC_ENCRYPTION_KEY", metavar="KEY", help="The shared secret."
)
@map_option
@dedup_option
@batch_size_option
@click.option("--concurrency", type=click.IntRange(1, 10), default=4, show_default=True)
@csv_format_options
@click.option(
    "--rate-limit",
    default="100/20",
    show_default=True,
    metavar="CALLS/SECONDS",
    help="Call budget; 'none' for no limit.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and send nothing.")
@click.option("--resume", is_flag=True, help="Continue an interrupted push of the same file.")
@output_options
@click.option(
    "--allow-unsafe-retry",
    is_flag=True,
    help="With --no-dedup, resend calls whose outcome is unknown (may duplicate leads).",
)
@click.option(
    "--progress-interval",
    type=click.FloatRange(0.1),
    default=10.0,
    show_default=True,
    help="Seconds between progress lines when not on a terminal.",
)
@click.option("-v", "--verbose", count=True, help="Log calls and retries (-vv: more).")
def push(
    file: str,
    endpoint: str | None,
    user_id: str | None,
    encryption_key: str | None,
    maps: tuple[str, ...],
    dedup: bool,
    batch_size: int,
    concurrency: int,
    delimiter: str,
    encoding: str,
    rate_limit: str,
    dry_run: bool,
    resume: bool,
    results_path: str | None,
    rejects_path: str | None,
    send_blanks: bool,
    allow_unsafe_retry: bool,
    progress_interval: float,
    verbose: int,
) -> None:
    """Sync the leads of FILE.csv (or .csv.gz, or - for standard input).

    Column headers are field names; Id, Email, ForeignSysPersonId and ForeignSysType are
    the keys. Writes a results file (one line per row) and a rejects file (the rows that
    failed, under the original header, ready to fix and push again).
    """
    _logging(verbose)
    if dry_run and resume:
        raise click.UsageError("--dry-run and --resume cannot be used together")
    if not dry_run:
        for value, flag in (
            (endpoint, "--endpoint"),
            (user_id, "--user-id"),
            (encryption_key, "--encryption-key"),
        ):
            if not value:
                env = "LEADSYNC_" + flag[2:].upper().replace("-", "_")
                raise click.UsageError(f"Missing option '{flag}' (or {env}).")
    try:
        limiter = RateLimiter.parse(rate_limit)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--rate-limit'") from None
    source, mapping = open_csv(file, maps, delimiter, encoding)
    with source:
        columns = columns_of(source, mapping)
        client = None
        if endpoint and user_id and encryption_key:
            client = Client(
                endpoint,
                user_id,
                encryption_key,
                concurrency=concurrency,
                batch_size=batch_size,
                rate_limit=limiter,
                allow_unsafe_retry=allow_unsafe_retry,
            )
        try:
            fields = _probe(client) if client is not None else None
            reporter = Reporter(progress_interval)
            if dry_run:
                batcher: Batcher[Any] = Batcher(batch_size, MAX_BYTES, sync_overhead(user_id or ""))
                preparer = RowPreparer(
                    columns, batcher, validator=_validator(fields), send_blanks=send_blanks
                )
                _dry_run(source, preparer, reporter, fields, client is not None)
                return
            assert client is not None
            if client.rate_limiter is not None and _is_loopback(client.endpoint):
                reporter.note(
                    f"note: {client.endpoint} is on this host: the call budget"
                    f" {client.rate_limiter} is Marketo's; --rate-limit none pushes without it"
                )
            preparer = RowPreparer(
                columns, client.batcher(), validator=_validator(fields), send_blanks=send_blanks
            )
            options = push_options(
                file, results_path, rejects_path, dedup, resume, send_blanks, mapping
            )
            run_push(client, source, preparer, options, reporter)
        finally:
            if client is not None:
                client.close()


def _probe(client: Client) -> list[FieldInfo] | None:
    """The server's lead fields (None when it has no describeMObject), or stop here with
    one line when the endpoint cannot be reached or refuses the credentials."""
    try:
        return client.probe_lead_fields()
    except MktowsFault as fault:
        if fault.code == FaultCode.AUTHENTICATION_FAILED:
            raise PushStopped(
                f"{client.endpoint} refused the credentials ({fault.faultstring}): "
                "check --user-id and --encryption-key"
            ) from None
        raise PushStopped(f"{client.endpoint} answered {fault.describe()}") from None
    except EndpointUnreachable as exc:
        raise PushStopped(str(exc)) from None
    except ClientError as exc:
        raise PushStopped(str(exc)) from None


def _is_loopback(endpoint: str) -> bool:
    """Whether ``endpoint`` names this very host (a leadsync next to the client)."""
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validator(fields: list[FieldInfo] | None) -> FieldValidator | None:
    return FieldValidator(fields) if fields else None


def _dry_run(
    source: CsvSource,
    preparer: RowPreparer,
    reporter: Reporter,
    fields: list[FieldInfo] | None,
    connected: bool,
) -> None:
    report = dry_run(source, preparer, on_problem=reporter.problem)
    reporter.problems_footer(None)
    calls = "call" if report.calls == 1 else "calls"
    click.echo(
        f"Dry run: {report.rows:,} {_rows(report.rows)} read, {report.would_send:,} would be "
        f"sent in {report.calls:,} {calls}, {report.rejected:,} would fail. Nothing was sent."
    )
    if fields is None:
        why = "the server does not answer describeMObject" if connected else "no --endpoint given"
        click.echo(f"Field names and values were not checked against the server: {why}.")
    if report.rejected:
        sys.exit(EXIT_FAILED_ROWS)


def run_push(
    client: BatchSender,
    source: CsvSource,
    preparer: RowPreparer,
    options: PushOptions,
    reporter: Reporter,
) -> None:
    stop = threading.Event()
    engine = PushEngine(
        client,
        source,
        preparer,
        options,
        on_problem=reporter.problem,
        on_progress=reporter.progress,
        stop=stop,
    )
    try:
        with _graceful_stop(stop, reporter), reporter.live(source, client.waiting):
            report = engine.run()
    except KeyboardInterrupt:
        # The second Ctrl-C: the journal already holds every answered call.
        click.echo(
            "Interrupted: run the same command with --resume to push the remaining rows.",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    except PushError as exc:
        raise PushStopped(str(exc)) from None
    except ClientError as exc:
        reporter.problems_footer(options.results_path)
        done = engine.counts.rows
        if engine.journal_removed:
            raise PushStopped(_client_error(exc, client)) from None
        raise PushStopped(
            f"{_client_error(exc, client)} ({done:,} {_rows(done)} done; "
            "run the same command with --resume to continue)"
        ) from None
    reporter.problems_footer(options.results_path)
    counts = report.counts
    if report.resumed_from:
        n = report.resumed_from
        click.echo(f"Resumed: {n:,} {_rows(n)} already done.")
    click.echo(_summary(counts))
    click.echo(f"Results: {options.results_path}")
    click.echo(f"Rejects: {options.rejects_path} ({counts.rejected:,} {_rows(counts.rejected)})")
    if counts.unknown:
        click.echo(
            f"{counts.unknown:,} {_rows(counts.unknown)} may or may not have been applied (the "
            "connection dropped and, with --no-dedup, the call was not resent): check before "
            "pushing them again.",
            err=True,
        )
    if report.interrupted:
        click.echo(
            "Interrupted: run the same command with --resume to push the remaining rows.",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    if counts.rejected:
        sys.exit(EXIT_FAILED_ROWS)


def _summary(counts: Counts) -> str:
    parts = [f"{counts.created:,} created", f"{counts.updated:,} updated"]
    parts.append(f"{counts.failed:,} failed")
    if counts.unknown:
        parts.append(f"{counts.unknown:,} unknown")
    parts.append(f"{counts.retried:,} retried")
    return f"{counts.rows:,} {_rows(counts.rows)}: " + ", ".join(parts)


def _rows(n: int) -> str:
    return "row" if n == 1 else "rows"


def _client_error(exc: ClientError, client: BatchSender) -> str:
    if isinstance(exc, MktowsFault) and exc.code == FaultCode.AUTHENTICATION_FAILED:
        return (
            f"{client.endpoint} refused the credentials ({exc.faultstring}): "
            "check --user-id and --encryption-key"
        )
    if isinstance(exc, MktowsFault):
        return f"{client.endpoint} answered {exc.describe()}"
    return str(exc)


@contextmanager
def _graceful_stop(stop: threading.Event, reporter: Reporter) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): send nothing new, wait for the calls in flight, record
    them, and stop cleanly. A second one quits at once (the journal still holds every
    answered batch)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        reporter.note("Stopping after the calls in flight (Ctrl-C again to quit now)...")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Reporter:
    """Problems, progress and notes on stderr: a live bar on a terminal, plain lines else."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.shown = 0
        self.hidden = 0
        self.tty = sys.stderr.isatty()
        self._started = time.monotonic()
        self._last_line = self._started
        self._progress: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        self._waiting: Callable[[], str | None] = lambda: None
        self._last = Progress(0, 0, None)

    def problem(self, line: int, text: str) -> None:
        if self.shown >= MAX_PROBLEMS_SHOWN:
            self.hidden += 1
            return
        self.shown += 1
        self.note(f"line {line}: {text}")

    def problems_footer(self, results_path: str | None) -> None:
        if self.hidden:
            where = f" (see {results_path})" if results_path else ""
            self.note(f"... and {self.hidden:,} more problems{where}")
            self.hidden = 0

    def note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            click.echo(text, err=True)

    @contextmanager
    def live(
        self, source: CsvSource, waiting: Callable[[], str | None] | None = None
    ) -> Iterator[None]:
        """Show progress while the push runs; ``waiting`` says what holds the calls back
        (a rate limit, a backoff), checked by a ticker, since no batch completes then."""
        self._started = self._last_line = time.monotonic()
        self._waiting = waiting or (lambda: None)
        self._last = Progress(0, 0, source.total_bytes)
        if not self.tty:
            with self._ticking():
                yield
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        bar = Bar(
            TextColumn("[bold]pushing"),
            BarColumn(),
            TextColumn("{task.fields[rows]} rows"),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("[yellow]{task.fields[status]}"),
            console=Console(stderr=True),
            transient=True,
        )
        with bar:
            self._progress = bar
            self._task = bar.add_task(
                "push", total=source.total_bytes, rows="0", rate="-", status=""
            )
            try:
                with self._ticking():
                    yield
            finally:
                self._progress = None

    @contextmanager
    def _ticking(self) -> Iterator[None]:
        """Refresh the display twice a second meanwhile, so a wait shows while it lasts."""
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(min(self.interval, 0.5)):
                self._show(None)

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()

    def progress(self, progress: Progress) -> None:
        self._show(progress)

    def _show(self, progress: Progress | None) -> None:
        with self._lock:
            if progress is not None:
                self._last = progress
            last = self._last
            now = time.monotonic()
            # Only rows this run settled: a resumed run's earlier rows took no time here.
            rate = last.rows_this_run / max(now - self._started, 1e-6)
            waiting = self._waiting()
            if self._progress is not None:
                self._progress.update(
                    self._task,
                    completed=last.bytes_read,
                    rows=f"{last.rows_done:,}",
                    rate=f"{rate:,.0f}",
                    status=f"waiting: {waiting}" if waiting else "",
                )
                return
            if now - self._last_line < self.interval or (progress is None and not waiting):
                return
            self._last_line = now
            share = ""
            if last.total_bytes:
                read = min(100.0, 100.0 * last.bytes_read / last.total_bytes)
                share = f", {read:.0f}% read"
            held = f", waiting: {waiting}" if waiting else ""
            click.echo(
                f"progress: {last.rows_done:,} rows done, {rate:,.0f} rows/s{share}{held}",
                err=True,
            )


def _logging(verbose: int) -> None:
    if not verbose:
        return  # retries and give-ups reach the user through the results file
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    if verbose < 3:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)


if __name__ == "__main__":
    main(prog_name="leadsync")
