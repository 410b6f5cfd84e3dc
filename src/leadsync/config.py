"""Server settings: defaults, a config file, environment variables and flags, in that order of
precedence (each overrides the ones before it).

Each setting is declared once, as a field of ``Settings`` made by ``setting()``: from that one
declaration come the ``serve`` flag, the ``LEADSYNC_*`` variable, the config-file key and the
table in docs/deployment.md.

To add a setting: add a field ``name: type = setting(default, "Help.", flag="--name")`` to
``Settings`` (leave ``flag`` out for one set only by file or environment), read it as
``settings.name``, and run ``python -m leadsync.docs_settings`` to rewrite the docs table.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from leadsync.errors import ConfigError
from leadsync.logs import LOG_FORMATS
from leadsync.operations.sync import UnknownAttributePolicy
from leadsync.store import DEFAULT_DATABASE_URL

ENV_PREFIX = "LEADSYNC_"
MIB = 1024 * 1024
LOG_LEVELS = ("debug", "info", "warning", "error")

T = TypeVar("T")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Setting:
    """How one setting is named, typed, bounded and explained, wherever it is given."""

    name: str
    default: Any
    help: str
    #: The ``serve`` flag: ``--name``, ``--name/--no-name`` for a boolean pair; None: no flag.
    flag: str | None = None
    #: The environment variable, when it is not ``LEADSYNC_`` and the name in capitals.
    env_name: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    #: The values a string may take.
    choices: tuple[str, ...] = ()
    #: A boolean given as one of two words (true's, false's), for example ("fault", "status").
    words: tuple[str, str] | None = None
    metavar: str | None = None
    #: The default as people should read it, when the value alone would mislead.
    shown_default: str | None = None
    #: Masked wherever settings are shown.
    secret: bool = False
    #: A repeatable flag (a list in the config file); its values are joined with this.
    joined_by: str | None = None

    @property
    def env(self) -> str:
        return self.env_name or ENV_PREFIX + self.name.upper()

    @property
    def values(self) -> tuple[str, ...]:
        """The words this setting accepts, when it accepts only some."""
        if isinstance(self.default, enum.Enum):
            return tuple(str(member.value) for member in type(self.default))
        return self.words or self.choices

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        return self.text(self.default)

    def text(self, value: Any) -> str:
        """``value`` written the way this setting is given in the environment."""
        if isinstance(value, bool):
            if self.words:
                return self.words[0] if value else self.words[1]
            return "true" if value else "false"
        if isinstance(value, enum.Enum):
            return str(value.value)
        return str(value)

    def parse(self, raw: str, where: str) -> Any:
        """The value of text given for this setting; ``where`` begins the error message."""
        text = raw.strip()
        kind = type(self.default)
        if kind is bool:
            lowered = text.lower()
            if lowered in _TRUE or (self.words and lowered == self.words[0]):
                return True
            if lowered in _FALSE or (self.words and lowered == self.words[1]):
                return False
            raise ConfigError(f"{where}: {raw!r} (write true or false)")
        if kind is int:
            try:
                return self.check(int(text), where)
            except ValueError:
                raise ConfigError(f"{where}: {raw!r} (a whole number)") from None
        if self.values:
            lowered = text.lower()
            if lowered not in self.values:
                raise ConfigError(f"{where}: {raw!r} (one of {', '.join(self.values)})")
            return kind(lowered) if issubclass(kind, enum.Enum) else lowered
        return raw

    def check(self, value: int, where: str) -> int:
        """``value`` when it lies within this setting's bounds."""
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"{low} to {high}" if high is not None else f"at least {low}"
            raise ConfigError(f"{where}: {value} ({bounds})")
        return value


def setting(default: T, help: str, **declaration: Any) -> T:
    """A ``Settings`` field declared with everything ``Setting`` holds besides its name."""
    declared = Setting(name="", default=default, help=help, **declaration)
    return field(default=default, metadata={"setting": declared})


@dataclass(frozen=True, slots=True)
class Settings:
    # Listening.
    host: str = setting("127.0.0.1", "Interface to listen on.", flag="--host")
    port: int = setting(8080, "Port to listen on.", flag="--port", minimum=0, maximum=65535)
    public_url: str = setting(
        "",
        "Base URL clients use, when it differs from the one they reach the server at (a proxy);"
        " it becomes the WSDL's soap:address.",
        flag="--public-url",
        shown_default="the request's URL",
    )
    ssl_certfile: str = setting(
        "",
        "TLS certificate (PEM) to serve HTTPS with; empty: plain HTTP.",
        flag="--ssl-certfile",
        metavar="PATH",
    )
    ssl_keyfile: str = setting(
        "",
        "Private key (PEM) of --ssl-certfile, when the certificate's file does not hold it.",
        flag="--ssl-keyfile",
        metavar="PATH",
    )
    workers: int = setting(1, "Worker processes.", flag="--workers", minimum=1, maximum=64)
    threads: int = setting(
        # A call is mostly Python, which runs one thread at a time, so past a couple of calls
        # more threads only contend for it; PostgreSQL calls also wait on the network.
        0,
        "Calls each worker works on at once; the others wait their turn, in arrival order.",
        flag="--threads",
        minimum=0,
        maximum=256,
        shown_default="0, meaning 2 on SQLite, 4 on PostgreSQL",
    )
    max_body_bytes: int = setting(
        10 * MIB,
        "Largest request body accepted, in bytes; larger ones are refused before parsing.",
        flag="--max-body-bytes",
        minimum=1024,
        shown_default="10485760 (10 MiB)",
    )
    log_level: str = setting("info", "Log level.", flag="--log-level", choices=LOG_LEVELS)
    log_format: str = setting(
        "text",
        "Log lines as key=value text, or as one JSON object each (time, level, user,"
        " operation, records, outcome, fault_code, duration_ms, error_id) for a log shipper.",
        flag="--log-format",
        choices=LOG_FORMATS,
    )
    # Connection and request bounds (docs/deployment.md, Limits and exposure).
    max_body_bytes_in_flight: int = setting(
        64 * MIB,
        "Bytes of request bodies one worker holds in memory at once; a body that does not fit"
        " waits unread for room.",
        minimum=1024,
        shown_default="67108864 (64 MiB)",
    )
    body_wait_seconds: int = setting(
        10,
        "Seconds a body waits for room among the bodies in flight before its call gets 20024.",
        minimum=1,
    )
    max_elements: int = setting(
        1_000_000,
        "Most markup tags ('<') in one request; a signed request with more gets 20012 before"
        " it is parsed.",
        minimum=100,
    )
    max_attributes: int = setting(
        500_000,
        "Most attributes ('=' characters) in one request; a signed request with more gets"
        " 20012 before it is parsed.",
        minimum=100,
    )
    max_header_bytes: int = setting(
        64 * 1024,
        "Bytes of request line and headers one request may send (431 and closed above it).",
        minimum=1024,
    )
    header_timeout_seconds: int = setting(
        10,
        "Seconds a connection has to send a complete request head (408 and closed after it).",
        minimum=1,
    )
    body_timeout_seconds: int = setting(
        10,
        "A request body must bring body_min_bytes bytes in every this many seconds while the"
        " server reads it, or its connection is closed.",
        minimum=1,
    )
    body_min_bytes: int = setting(
        1024, "Bytes a request body must bring in every body_timeout_seconds.", minimum=0
    )
    keep_alive_seconds: int = setting(
        5, "Seconds an idle keep-alive connection is kept open.", minimum=1
    )
    max_connections: int = setting(
        500,
        "Open connections per worker; more are answered 503 and closed at once.",
        minimum=1,
    )
    # The database.
    database_url: str = setting(
        DEFAULT_DATABASE_URL,
        "Database URL: sqlite:///PATH or postgresql://USER@HOST:PORT/DB.",
        flag="--database",
        env_name=ENV_PREFIX + "DATABASE_URL",
        metavar="URL",
    )
    database_wait_seconds: int = setting(
        2,
        "Seconds a call waits for a database connection before its 20011 (PostgreSQL); also"
        " the bound of /readyz's query.",
        minimum=1,
    )
    # How the API behaves.
    auth_window_seconds: int = setting(
        900,
        "Seconds a requestTimestamp may lie before or after the server's clock.",
        flag="--auth-window",
        minimum=1,
    )
    workspace: str = setting("Default", "The workspace name accepted in MktowsContextHeader.")
    max_records_per_call: int = setting(
        1000,
        "Most leadRecords in one syncMultipleLeads call (20110 above it; 0: no cap).",
        flag="--max-records",
        minimum=0,
    )
    unknown_attributes: UnknownAttributePolicy = setting(
        UnknownAttributePolicy.FAULT,
        "An unknown attribute name in syncMultipleLeads faults the call (20105) or fails"
        " only its record.",
        flag="--unknown-attributes",
    )
    sync_multiple_writes_key_email: bool = setting(
        False,
        "syncMultipleLeads writes the top-level Email of a record matched by Id or"
        " ForeignSysPersonId (its page says no).",
    )
    sync_lead_writes_key_email: bool = setting(
        True,
        "syncLead writes the top-level Email of a lead matched by ForeignSysPersonId or cookie"
        " (its page says yes).",
        flag="--sync-lead-key-email/--no-sync-lead-key-email",
    )
    sync_lead_failure_faults: bool = setting(
        True,
        "A syncLead record that cannot be written faults the call (20106) or returns FAILED.",
        flag="--sync-lead-failure",
        words=("fault", "status"),
    )
    leads_batch_size: int = setting(
        100, "Leads one getMultipleLeads call returns when it gives no batchSize.", minimum=1
    )
    leads_batch_max: int = setting(
        1000, "Most leads one getMultipleLeads call returns.", flag="--leads-batch-max", minimum=1
    )
    max_time_range_days: int = setting(
        30,
        "Widest time window of LastUpdateAtSelector and getLeadChanges, in days (20022 above"
        " it; 0: no limit).",
        flag="--max-time-range-days",
        minimum=0,
    )
    # Call limits (docs/limits.md); 0 or "" turns one off.
    daily_quota: int = setting(
        0,
        "Calls a day per API user, reset at midnight in quota_timezone (0: no limit).",
        flag="--daily-quota",
        minimum=0,
    )
    rate_limit: str = setting(
        "",
        "Calls per window per API user, CALLS/WINDOW, for example 100/20s (empty: no limit).",
        flag="--rate",
        metavar="N/WINDOW",
    )
    concurrency_limit: int = setting(
        0, "Concurrent calls per API user (0: no limit).", flag="--concurrency", minimum=0
    )
    marketo_limits: bool = setting(
        False,
        "Marketo's limits: 10000 calls a day, 100 per 20 s, 10 at once; the limits given"
        " explicitly win.",
        flag="--marketo-limits",
    )
    quota_timezone: str = setting(
        "America/Chicago", "The time zone whose midnight resets the daily quota (Marketo's)."
    )
    lease_seconds: int = setting(
        300,
        "A concurrency slot held this long is taken back even if its process can't be probed"
        " (one on another host); a dead process's slots on this host come back at once.",
        minimum=1,
    )
    # Bulk jobs (docs/rest.md, "Bulk API"; docs/deployment.md, "Bulk job files").
    bulk_dir: str = setting(
        "",
        "Folder of bulk job files (uploaded imports, their failures and warnings, export"
        " files); every worker and host must see the same one.",
        flag="--bulk-dir",
        metavar="PATH",
        shown_default="beside the SQLite file (NAME.jobs/), else ./leadsync-jobs",
    )
    bulk_threads: int = setting(
        2,
        "Bulk jobs each worker runs at once (0: this worker runs none; the queue limits hold"
        " across all workers).",
        flag="--bulk-threads",
        minimum=0,
        maximum=16,
    )
    bulk_export_daily_bytes: int = setting(
        500 * MIB,
        "Bytes of bulk export files a day, all extract jobs together (1029 beyond it).",
        minimum=0,
        shown_default="524288000 (500 MiB)",
    )
    # Testing aids (docs/testing.md).
    admin_token: str = setting(
        "",
        "Enables the admin API at /admin for clients sending this bearer token (empty: no"
        " admin routes at all).",
        flag="--admin-token",
        secret=True,
    )
    inject: str = setting(
        "",
        "Fault rules installed at start, such as op=syncMultipleLeads,code=20023,times=2"
        " (repeatable; separated by ';' in the environment).",
        flag="--inject",
        metavar="RULE",
        joined_by="; ",
    )
    seed: str = setting("", "Seed of the fault rules that name none.", flag="--seed")
    # The REST API (docs/rest.md).
    rest_query_token: bool = setting(
        False,
        "REST: also accept the access token as the access_token query parameter, which"
        " Marketo stopped accepting in 2026 (default: the Authorization header only).",
        flag="--rest-query-token/--no-rest-query-token",
    )
    rest_daily_quota: int = setting(
        0,
        "REST: calls a day for the whole instance, every service together (607 beyond;"
        " 0: none, or Marketo's 50000 with marketo_limits).",
        flag="--rest-daily-quota",
        minimum=0,
    )
    rest_rate_limit: str = setting(
        "",
        "REST: calls per window for the whole instance, CALLS/WINDOW (606 beyond; empty: none,"
        " or Marketo's 100/20s with marketo_limits).",
        flag="--rest-rate",
        metavar="N/WINDOW",
    )
    rest_concurrency_limit: int = setting(
        0,
        "REST: concurrent calls for the whole instance (615 beyond; 0: none, or Marketo's 10"
        " with marketo_limits).",
        flag="--rest-concurrency",
        minimum=0,
    )
    # Bridge mode (docs/bridge.md): SOAP calls forwarded to a Marketo instance's REST API.
    upstream_url: str = setting(
        "",
        "Bridge mode: the base URL of the Marketo REST instance SOAP calls are forwarded to,"
        " such as https://123-ABC-456.mktorest.com (empty: serve the local database).",
        flag="--upstream",
        metavar="URL",
    )
    upstream_client_id: str = setting(
        "", "Bridge mode: the upstream's client id.", flag="--upstream-client-id"
    )
    upstream_client_secret: str = setting(
        "",
        "Bridge mode: the upstream's client secret (never printed or logged).",
        flag="--upstream-client-secret",
        secret=True,
    )
    upstream_foreign_id_field: str = setting(
        "",
        "Bridge mode: the upstream custom field (REST name) holding ForeignSysPersonId;"
        " records keyed by ForeignSysPersonId fail without it.",
        flag="--foreign-id-field",
        metavar="FIELD",
    )
    upstream_ca_bundle: str = setting(
        "",
        "Bridge mode: a CA bundle (PEM) to verify the upstream's certificate with (empty: the"
        " system's).",
        flag="--upstream-ca-bundle",
        metavar="PATH",
    )
    upstream_insecure_skip_tls_verify: bool = setting(
        False,
        "Bridge mode: do NOT verify the upstream's TLS certificate (logs a warning on every"
        " start; for test instances only).",
        flag="--upstream-insecure-skip-tls-verify",
    )
    upstream_wait_seconds: int = setting(
        30,
        "Bridge mode: how long a SOAP call may wait for the upstream's call budget or retries"
        " before it gets 20023/20024.",
        flag="--upstream-wait",
        minimum=0,
    )
    upstream_timeout_seconds: int = setting(
        90,
        "Bridge mode: the longest an upstream call may take (Marketo's Sync Leads timeout).",
        flag="--upstream-timeout",
        minimum=1,
    )
    bridge_extract_wait_seconds: int = setting(
        60,
        "Bridge mode: how long a getMultipleLeads by update time waits for the upstream's bulk"
        " lead extract before it gets 20011 (the SOAP client's own timeout bounds it too).",
        flag="--bridge-extract-wait",
        minimum=1,
    )
    upstream_daily_quota: int = setting(
        50_000,
        "Bridge mode: upstream calls a day, every worker together (0: none).",
        minimum=0,
    )
    upstream_rate_limit: str = setting(
        "100/20s",
        "Bridge mode: upstream calls per window, every worker together (empty: none).",
        metavar="N/WINDOW",
    )
    upstream_concurrency: int = setting(
        10, "Bridge mode: upstream calls in flight, every worker together (0: none).", minimum=0
    )
    bridge_journal_days: int = setting(
        90,
        "Bridge mode: days the journal of bridged calls keeps an entry (0: forever).",
        flag="--bridge-journal-days",
        minimum=0,
    )
    # Monitoring (docs/deployment.md, Metrics).
    metrics: bool = setting(
        True,
        "Serve Prometheus metrics at /metrics: to loopback clients only, unless metrics_token"
        " is set.",
        flag="--metrics/--no-metrics",
    )
    metrics_token: str = setting(
        "",
        "Serve /metrics to any client sending this bearer token (not only loopback).",
        flag="--metrics-token",
        secret=True,
    )
    # The console (docs/console.md).
    calls_history: int = setting(
        10_000,
        "Calls kept in the calls history the console shows, newest first (0: none).",
        flag="--calls-history",
        minimum=0,
    )
    console_idle_minutes: int = setting(
        30,
        "Minutes a console session may go unused before it has to sign in again.",
        minimum=1,
    )

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with every non-None value applied (how flags override the rest)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


#: Every setting, in the order of ``Settings``.
SETTINGS: tuple[Setting, ...] = tuple(
    replace(f.metadata["setting"], name=f.name) for f in fields(Settings)
)
BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


def from_env(base: Settings | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """``base`` (or the defaults) with every ``LEADSYNC_*`` variable applied."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for declared in SETTINGS:
        raw = env.get(declared.env)
        if raw:
            values[declared.name] = declared.parse(raw, f"bad value for {declared.env}")
    return replace(base or Settings(), **values)


def as_environment(settings: Settings) -> dict[str, str]:
    """The ``LEADSYNC_*`` variables that ``from_env`` reads back as ``settings``."""
    return {s.env: s.text(getattr(settings, s.name)) for s in SETTINGS}


def from_file(path: str | os.PathLike[str], base: Settings | None = None) -> Settings:
    """``base`` (or the defaults) with the settings of a TOML file applied.

    Keys are the setting names (``port``, ``database_url``, ``daily_quota``...; dashes may
    stand for underscores), at the top level of the file.
    """
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, raw in data.items():
        declared = BY_NAME.get(key.replace("-", "_"))
        if declared is None:
            raise ConfigError(f"config file {path}: unknown setting {key!r}")
        values[declared.name] = _from_toml(path, declared, raw)
    return replace(base or Settings(), **values)


def _from_toml(path: str | os.PathLike[str], declared: Setting, raw: Any) -> Any:
    name, kind = declared.name, type(declared.default)
    where = f"config file {path}: bad value for {name}"
    if declared.joined_by is not None and isinstance(raw, list):
        if not all(isinstance(item, str) for item in raw):
            raise ConfigError(f"config file {path}: {name} must be a list of strings")
        return declared.joined_by.join(raw)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and declared.words:
            return declared.parse(raw, where)
    elif kind is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return declared.check(raw, where)
    elif isinstance(raw, str):
        return declared.parse(raw, where)
    elif kind is str and isinstance(raw, int | float) and not isinstance(raw, bool):
        # A seed or a token may well be written as a bare number.
        return str(raw)
    noun = {bool: "boolean", int: "whole number"}.get(kind, "string")
    raise ConfigError(f"config file {path}: {name} must be a {noun}, not {raw!r}")
