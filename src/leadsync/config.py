"""Server settings: defaults, a config file, environment variables and flags, in that order of
precedence (each overrides the ones before it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from leadsync.errors import ConfigError
from leadsync.operations.sync import UnknownAttributePolicy
from leadsync.store import DEFAULT_DATABASE_URL

ENV_PREFIX = "LEADSYNC_"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE_URL
    #: The URL clients reach the server at, when it differs from the one they used (a proxy);
    #: it becomes the WSDL's soap:address. Empty: the URL of the WSDL request itself.
    public_url: str = ""
    #: Seconds a requestTimestamp may lie before or after the server's clock (spec §2.3).
    auth_window_seconds: int = 900
    #: Largest request body accepted, in bytes; larger ones are refused before parsing.
    max_body_bytes: int = 10 * MIB
    #: Most leadRecords one syncMultipleLeads call may carry (20110 above it).
    max_records_per_call: int = 1000
    #: What an unknown attribute name in syncMultipleLeads does (spec §4.8).
    unknown_attributes: UnknownAttributePolicy = UnknownAttributePolicy.FAULT
    #: syncMultipleLeads writes the top-level Email of a record matched by Id or
    #: ForeignSysPersonId (its page says no; spec §4.3).
    sync_multiple_writes_key_email: bool = False
    #: The workspace name accepted in MktowsContextHeader.
    workspace: str = "Default"
    #: syncLead writes the top-level Email of a lead matched by ForeignSysPersonId or cookie
    #: (its page says yes; spec §4.3).
    sync_lead_writes_key_email: bool = True
    #: A syncLead record that cannot be written faults with 20106 (else: FAILED status).
    sync_lead_failure_faults: bool = True
    #: getMultipleLeads: leads per call when batchSize is absent, and the most per call.
    leads_batch_size: int = 100
    leads_batch_max: int = 1000
    #: Widest time window of LastUpdateAtSelector and getLeadChanges, in days (20022 above
    #: it); 0: no limit.
    max_time_range_days: int = 30
    #: Worker processes for ``serve``.
    workers: int = 1
    #: Calls each process works on at once; more wait their turn, in arrival order. 0 picks
    #: by store: a call is mostly Python, which runs one thread at a time, so past a couple
    #: of calls more threads only contend for it; PostgreSQL calls also wait on the network.
    threads: int = 0
    log_level: str = "info"
    #: Call limits (docs/limits.md); 0 or "" turns one off. With ``marketo_limits`` the
    #: limits left off take Marketo's published values.
    daily_quota: int = 0
    #: CALLS/WINDOW, for example "100/20s".
    rate_limit: str = ""
    concurrency_limit: int = 0
    marketo_limits: bool = False
    #: The daily quota resets at midnight in this time zone (Marketo: US Central).
    quota_timezone: str = "America/Chicago"
    #: A concurrency slot held this long is taken for the leftover of a crashed process.
    lease_seconds: int = 300
    #: Enables the admin API (docs/testing.md); empty: no admin routes at all.
    admin_token: str = ""
    #: Fault rules installed at start, separated by ";" (docs/testing.md).
    inject: str = ""
    #: Seeds fault rules that name no seed of their own.
    seed: str = ""
    #: Serves Prometheus metrics at /metrics: to loopback clients only, unless
    #: ``metrics_token`` is set, in which case to any client sending it as a bearer token.
    metrics: bool = True
    metrics_token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with every non-None value applied (how flags override the rest)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def _coerce(name: str, raw: str, current: Any) -> Any:
    try:
        if isinstance(current, bool):
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(current, UnknownAttributePolicy):
            return UnknownAttributePolicy(raw.strip().lower())
        if isinstance(current, int):
            return int(raw)
    except ValueError:
        raise ConfigError(f"bad value for {ENV_PREFIX}{name.upper()}: {raw!r}") from None
    return raw


_ENV_ALIASES = {"database_url": "DATABASE_URL"}


def from_env(base: Settings | None = None, environ: dict[str, str] | None = None) -> Settings:
    """``base`` (or the defaults) with every ``LEADSYNC_*`` variable applied."""
    env = os.environ if environ is None else environ
    settings = base or Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        raw = env.get(ENV_PREFIX + _ENV_ALIASES.get(f.name, f.name.upper()))
        if raw is not None and raw != "":
            values[f.name] = _coerce(f.name, raw, getattr(settings, f.name))
    return replace(settings, **values)


#: Settings a config file may give as a list of strings; they are joined with the separator.
_LIST_SETTINGS = {"inject": "; "}


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
    settings = base or Settings()
    known = {f.name for f in fields(Settings) if f.name != "extra"}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"config file {path}: unknown setting {key!r}")
        values[name] = _from_toml(path, name, raw, getattr(settings, name))
    return replace(settings, **values)


def _from_toml(path: str | os.PathLike[str], name: str, raw: Any, current: Any) -> Any:
    if name in _LIST_SETTINGS and isinstance(raw, list):
        if not all(isinstance(item, str) for item in raw):
            raise ConfigError(f"config file {path}: {name} must be a list of strings")
        return _LIST_SETTINGS[name].join(raw)
    if isinstance(current, bool):
        if isinstance(raw, bool):
            return raw
    elif isinstance(current, int):
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
    elif isinstance(raw, str):
        return _coerce(name, raw, current)
    elif type(current) is str and isinstance(raw, int | float) and not isinstance(raw, bool):
        # A seed or a token may well be written as a bare number.
        return str(raw)
    kind = {bool: "boolean", int: "whole number"}.get(type(current), "string")
    raise ConfigError(f"config file {path}: {name} must be a {kind}, not {raw!r}")
