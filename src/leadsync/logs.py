"""Log set-up shared by the server process and its workers: key=value text, or one JSON
object a line for a log shipper (``--log-format json``).

A record may carry the fields of an API call under ``extra={"call": {...}}`` (see
``call_fields``); the JSON format writes them as top-level keys, the text format keeps its
message as it was.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOG_FORMATS = ("text", "json")
#: Longest user id written to a log: whatever a caller sends lands there.
_USER_ID_MAX = 80


def configure_logging(level: str, log_format: str = "text") -> None:
    """One line per record on stderr; a no-op when logging is already set up."""
    if log_format != "json":
        logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)
        return
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...the call's fields}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        call = getattr(record, "call", None)
        if isinstance(call, dict):
            entry.update(call)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def call_fields(
    *,
    user: str,
    operation: str,
    outcome: str,
    duration_ms: float,
    records: int | None = None,
    fault_code: int | None = None,
    error_id: str = "",
    **counts: int,
) -> dict[str, Any]:
    """What a log line says of one API call (``extra={"call": ...}``): who, what, how it
    ended ("ok" or "fault"), how long it took, and the error id an internal error got."""
    fields: dict[str, Any] = {
        "user": user,
        "operation": operation,
        "outcome": outcome,
        "duration_ms": round(duration_ms, 1),
    }
    if records is not None:
        fields["records"] = records
    fields.update(counts)
    if fault_code is not None:
        fields["fault_code"] = fault_code
    if error_id:
        fields["error_id"] = error_id
    return fields


def loggable_user_id(user_id: str) -> str:
    """A user id as a caller sent it, safe on one log line: control characters escaped and
    the length bounded (never the key or the signature, which are not passed here)."""
    text = user_id[:_USER_ID_MAX]
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text + ("..." if len(user_id) > _USER_ID_MAX else "")
