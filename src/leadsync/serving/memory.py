"""Giving memory back to the system after a large request.

glibc keeps freed memory in its heap (and raises its mmap threshold after large frees),
so after one large body the process's RSS would stay at its peak. ``malloc_trim`` returns
the free pages; it costs a few milliseconds on a large heap, so it runs only after large
requests.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

#: Requests at least this large are followed by a trim.
TRIM_AFTER_BYTES = 1024 * 1024


def _load_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc
    return trim


_trim = _load_trim()


def release_memory() -> None:
    """Return freed heap pages to the system, where the C library can (glibc)."""
    if _trim is not None:
        _trim(0)
