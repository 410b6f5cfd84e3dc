"""The upstream's lead fields, from its Describe Lead: the catalogue SOAP attribute names are
checked against (the very rule that gives 20105 locally) and the REST name of each.

Read once and kept; read again when a call names a field the kept copy does not know (a
field added upstream since), or when the upstream skips a record for a field it no longer
has (1006).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from leadsync.bridge.upstream import Upstream
from leadsync.model import FieldDef, FieldType
from leadsync.operations.fields import STANDARD_FIELDS, FieldCatalogue

_TYPES = {t.value: t for t in FieldType}
_STANDARD = {f.name.casefold() for f in STANDARD_FIELDS}


@dataclass(frozen=True, slots=True)
class UpstreamCatalogue:
    catalogue: FieldCatalogue
    #: SOAP name (case folded) -> REST name, for the fields REST may write.
    rest_names: dict[str, str]
    #: How many fields the upstream described.
    count: int
    #: Catalogue field name (as the sync's values are keyed) -> REST name.
    by_field: dict[str, str]

    def rest_name(self, soap_name: str) -> str | None:
        return self.rest_names.get(soap_name.casefold())


def catalogue_from_describe(rows: list[object]) -> UpstreamCatalogue:
    custom: list[FieldDef] = []
    rest_names: dict[str, str] = {}
    for row in rows:
        if not isinstance(row, dict):
            continue
        soap, rest = row.get("soap"), row.get("rest")
        if not isinstance(soap, dict) or not isinstance(soap.get("name"), str):
            continue
        name: str = soap["name"]
        if str(row.get("dataType", "")).lower() == "reference":
            # The partition: REST sets it with partitionName, never as a field; the local
            # catalogue has no such field either.
            continue
        if (
            isinstance(rest, dict)
            and isinstance(rest.get("name"), str)
            and not rest.get("readOnly")
        ):
            rest_names[name.casefold()] = rest["name"]
        if name.casefold() in _STANDARD or name.casefold() in ("id",):
            continue
        ftype = _TYPES.get(str(row.get("dataType", "")).lower(), FieldType.STRING)
        custom.append(
            FieldDef(
                name,
                ftype,
                custom=True,
                display_name=str(row.get("displayName") or name),
                rest_name=rest_names.get(name.casefold(), ""),
            )
        )
    catalogue = FieldCatalogue(custom)
    by_field = {
        f.name: rest_names[f.name.casefold()]
        for f in catalogue.fields.values()
        if f.name.casefold() in rest_names
    }
    return UpstreamCatalogue(catalogue, rest_names, len(rows), by_field)


class UpstreamFields:
    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream
        self._kept: UpstreamCatalogue | None = None
        self._lock = threading.Lock()

    def current(self) -> UpstreamCatalogue:
        kept = self._kept
        return kept if kept is not None else self.refresh()

    def refresh(self) -> UpstreamCatalogue:
        with self._lock:
            answer = self._upstream.call("GET", "/rest/v1/leads/describe.json")
            rows = answer.get("result")
            self._kept = catalogue_from_describe(rows if isinstance(rows, list) else [])
            return self._kept

    def forget(self) -> None:
        self._kept = None
