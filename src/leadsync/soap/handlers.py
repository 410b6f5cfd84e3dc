"""The table of SOAP operations leadsync answers, and what a handler receives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from leadsync.clock import Clock
from leadsync.config import Settings
from leadsync.errors import BadParameter
from leadsync.model import ApiUser, RecordStatus
from leadsync.soap.envelope import SoapRequest
from leadsync.store.base import Store


@dataclass(frozen=True, slots=True)
class CallContext:
    store: Store
    settings: Settings
    user: ApiUser
    request: SoapRequest
    #: Where every time the call records comes from (leadsync.clock).
    clock: Clock


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """The response body and the figures the call's log line reports."""

    body: bytes
    records: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    #: Each record's outcome, for calls that write records (read by the calls history only
    #: when some failed).
    statuses: Sequence[RecordStatus] = ()


Handler = Callable[[CallContext], CallOutcome]
HANDLERS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for the SOAP operation ``name`` (as the WSDL spells it)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def parse_bool(value: str | None, name: str, default: bool) -> bool:
    """xs:boolean, leniently: Marketo's Ruby sample sends ``True``."""
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadParameter(f"{name} must be true or false, not {value!r}")


def load_handlers() -> dict[str, Handler]:
    """Every handler module, imported for its registrations."""
    from leadsync.soap import (  # noqa: F401
        activities,
        describe,
        imports,
        leads,
        lists,
        merge,
        reads,
        sync_lead,
    )

    return HANDLERS
