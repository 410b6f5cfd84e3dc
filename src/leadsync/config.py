"""Server settings: defaults, environment variables and flags, in that order of precedence."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from leadsync.errors import ConfigError
from leadsync.operations.leads import UnknownAttributePolicy
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
    #: Worker processes for ``serve``.
    workers: int = 1
    log_level: str = "info"
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
