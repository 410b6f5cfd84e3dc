"""A ``multipart/form-data`` body, already read whole and bounded, as fields and files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from leadsync.errors import InvalidMultipart

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_NAME = re.compile(rb'\bname="([^"]*)"', re.IGNORECASE)
_FILENAME = re.compile(rb'\bfilename="([^"]*)"', re.IGNORECASE)
#: Most parts a form may hold (a bulk import sends a handful).
MAX_PARTS = 32


@dataclass(slots=True)
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    #: Uploaded files by part name: (file name, content).
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def is_multipart(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def parse_form(content_type: str, body: bytes) -> Form:
    """The parts of ``body``; 613 when it is not a well-formed multipart body."""
    found = _BOUNDARY.search(content_type)
    if not is_multipart(content_type) or found is None:
        raise InvalidMultipart("Invalid Multipart Request: send multipart/form-data")
    boundary = (found.group(1) or found.group(2)).encode("latin-1")
    delimiter = b"--" + boundary
    if not body.startswith(delimiter) and delimiter not in body:
        raise InvalidMultipart("Invalid Multipart Request: no part starts with the boundary")
    form = Form()
    chunks = body.split(b"\r\n" + delimiter)
    first = chunks[0]
    start = first.find(delimiter)
    chunks[0] = first[start + len(delimiter) :]
    closed = False
    for chunk in chunks[: MAX_PARTS + 1]:
        if chunk.startswith(b"--"):
            closed = True
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise InvalidMultipart("Invalid Multipart Request: a part has no headers")
        name = _NAME.search(head)
        if name is None:
            raise InvalidMultipart("Invalid Multipart Request: a part has no name")
        key = name.group(1).decode("utf-8", "replace")
        filename = _FILENAME.search(head)
        if filename is not None:
            form.files[key] = (filename.group(1).decode("utf-8", "replace"), content)
        else:
            form.fields[key] = content.decode("utf-8", "replace")
    if not closed:
        raise InvalidMultipart("Invalid Multipart Request: the body does not end its parts")
    return form
