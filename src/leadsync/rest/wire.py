"""REST wire conventions: the envelope, request ids, paths, JSON in and out.

Errors are HTTP 200 with ``success:false`` and ``errors[{code, message}]``, codes as
strings; successful responses carry no ``errors`` or ``warnings``. Keys come in the order
Marketo writes them.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping
from typing import Any

import orjson

from leadsync.errors import RestError

#: Request bodies above this are refused with HTTP 413.
MAX_BODY_BYTES = 1024 * 1024
#: A bulk import's body: its file (at most 10 MB, as Marketo) and the multipart around it.
MAX_IMPORT_BODY_BYTES = 10 * 1024 * 1024 + 64 * 1024
IMPORT_PATH = "/bulk/v1/leads.json"
#: Request URIs (path and query) above this are refused with HTTP 414.
MAX_URI_BYTES = 8 * 1024
JSON_TYPE = "application/json;charset=UTF-8"

# Marketo's first part is a per-node counter; each process starts its own at a random point
# so that ids from several workers rarely collide.
_COUNTER = itertools.count(int.from_bytes(os.urandom(2), "big"))


def body_limit(method: str, path: str) -> int:
    """The largest body a request may send (HTTP 413 above it)."""
    if method == "POST" and remove_dot_segments(path) == IMPORT_PATH:
        return MAX_IMPORT_BODY_BYTES
    return MAX_BODY_BYTES


def request_id() -> str:
    """``<hex counter>#<hex epoch milliseconds>``, Marketo's shape (``262e#17d4f046342``)."""
    return f"{next(_COUNTER) & 0xFFFFF:x}#{int(time.time() * 1000):x}"


def success_body(rid: str, reply: Mapping[str, Any]) -> bytes:
    body: dict[str, Any] = {"requestId": rid}
    if "result" in reply:
        body["result"] = reply["result"]
    body["success"] = True
    for key, value in reply.items():
        if key != "result":
            body[key] = value
    return orjson.dumps(body)


def error_body(rid: str, error: RestError) -> bytes:
    return orjson.dumps(
        {
            "requestId": rid,
            "success": False,
            "errors": [{"code": error.code, "message": error.message}],
        }
    )


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: ``/rest/../bulk/v1/x`` is ``/bulk/v1/x`` (a client builds such)."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
            continue
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
            continue
        out.append(segment)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result
