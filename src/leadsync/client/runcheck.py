"""What makes a resumed push the same push: the options that shape the data sent, and the
identity of the input file (size, modification time, a hash of its first block).

The journal's opening line records them; ``--resume`` compares them with the run at hand
and refuses on the first difference, naming it, rather than sending the remaining rows
under another mapping or from another file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

#: Bytes hashed from the start of the input: enough to tell files apart, cheap to read.
HEAD_BYTES = 64 * 1024


def input_identity(path: str) -> dict[str, Any]:
    """``size``, ``mtime_ns`` and ``head`` (SHA-256 of the first block) of the file at
    ``path``; nothing for standard input, which has no identity to check."""
    if path == "-":
        return {}
    with open(path, "rb") as fh:
        stat = os.fstat(fh.fileno())
        head = hashlib.sha256(fh.read(HEAD_BYTES)).hexdigest()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "head": head}


def shape(mapping: Mapping[str, str], dedup: bool, send_blanks: bool) -> dict[str, Any]:
    """The options that decide what each row becomes on the wire."""
    return {"map": dict(mapping), "dedup": dedup, "send_blanks": send_blanks}


def difference(
    recorded: Mapping[str, Any], current: Mapping[str, Any], input_name: str
) -> str | None:
    """The first way ``current`` differs from the ``recorded`` run, in words; None when the
    run may be resumed. A key the recorded run lacks (an older journal) is not compared."""
    for key, spelled in _OPTIONS.items():
        if key in recorded and recorded[key] != current[key]:
            then, now = spelled(recorded[key]), spelled(current[key])
            return f"the interrupted push used {then}, this one {now}"
    if "size" in recorded and "size" not in current:
        return "the interrupted push read a file, this one standard input"
    if "size" in recorded and recorded["size"] != current["size"]:
        return (
            f"{input_name} changed since the interrupted push: {recorded['size']:,} bytes then,"
            f" {current['size']:,} now"
        )
    if "mtime_ns" in recorded and recorded["mtime_ns"] != current["mtime_ns"]:
        return (
            f"{input_name} changed since the interrupted push: modified at "
            f"{_when(recorded['mtime_ns'])} then, {_when(current['mtime_ns'])} now"
        )
    if "head" in recorded and recorded["head"] != current["head"]:
        return f"{input_name} changed since the interrupted push: its first bytes differ"
    return None


def _dedup(on: Any) -> str:
    return "--dedup" if on else "--no-dedup"


def _maps(mapping: Any) -> str:
    if not mapping:
        return "no --map"
    return " ".join(f"--map {column}={field}" for column, field in mapping.items())


def _blanks(on: Any) -> str:
    return "--send-blanks" if on else "no --send-blanks"


#: How each data-shaping option is spelled on the command line, in the order checked.
_OPTIONS: dict[str, Callable[[Any], str]] = {"dedup": _dedup, "map": _maps, "send_blanks": _blanks}


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds")
