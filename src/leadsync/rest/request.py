"""One REST request as the handlers see it: the effective method, parameters, the body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from leadsync.errors import InvalidContentType, InvalidJson

_FORM = "application/x-www-form-urlencoded"


@dataclass(slots=True)
class RestRequest:
    #: The method as sent; ``method`` is the one asked for, after ``_method`` tunnelling.
    http_method: str
    path: str
    query_string: str = ""
    body: bytes = b""
    content_type: str = ""
    authorization: str | None = None
    #: The ``Range`` header (bulk export files).
    range_header: str | None = None
    method: str = ""
    #: Query parameters, then those of a form body, in order; repeated names kept.
    params: list[tuple[str, str]] = field(default_factory=list)
    form_body: bool = False

    def __post_init__(self) -> None:
        self.params = parse_qsl(self.query_string, keep_blank_values=True)
        media = self.content_type.split(";", 1)[0].strip().lower()
        if media == _FORM and self.body:
            self.form_body = True
            self.params += parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        tunnelled = self.param("_method")
        self.method = self.http_method
        if tunnelled and self.http_method == "POST":
            self.method = tunnelled.strip().upper()

    def param(self, name: str) -> str | None:
        """The first value of ``name``, or None."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    def values(self, name: str) -> list[str]:
        """Every value of ``name``, repeated (``id=1&id=2``) or comma separated (``id=1,2``)."""
        found: list[str] = []
        for key, value in self.params:
            if key == name:
                found.extend(part.strip() for part in value.split(",") if part.strip())
        return found

    def json(self) -> Any:
        """The body as JSON; 612 when it is sent as something else, 609 when it is not
        JSON."""
        media = self.content_type.split(";", 1)[0].strip().lower()
        if media and "json" not in media:
            raise InvalidContentType(
                f"Invalid Content Type: {media}; send the body as application/json"
            )
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise InvalidJson() from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (an empty body is an empty object)."""
        if not self.body.strip():
            return {}
        data = self.json()
        if not isinstance(data, dict):
            raise InvalidJson("Invalid JSON: the body must be a JSON object")
        return data
