"""Which process holds a concurrency lease, and whether that process is still alive.

A lease names its owner as ``host|boot|pid|start``: the host's name, the id of the host's
current boot, the process id and the process's start time (clock ticks since boot). A
process on this host is known dead when the host has rebooted since, when no process has
its pid, or when the pid now belongs to a younger process. A process on another host can't
be probed from here: its leases wait for their expiry (``lease_seconds``).
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

_PROC = Path("/proc")


def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> str | None:
    """The process's start time, or None when there is no such process. Without /proc (not
    Linux) the start time is unknown: "" for any process that exists."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return _exists(pid)
    # The command name (field 2) may hold spaces and parentheses: count from its end.
    return stat[stat.rindex(")") + 2 :].split()[19]


def _exists(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


@functools.lru_cache(maxsize=1)
def _host() -> tuple[str, str]:
    return socket.gethostname().replace("|", "_"), _boot_id()


def current_owner() -> str:
    """This process's name for the leases it takes (a forked worker gets its own)."""
    return _owner_of(os.getpid())


@functools.lru_cache(maxsize=8)
def _owner_of(pid: int) -> str:
    host, boot = _host()
    return f"{host}|{boot}|{pid}|{_start_ticks(pid) or ''}"


def is_dead(owner: str) -> bool:
    """Whether the process that took a lease is known to be gone. Unknown (another host, a
    name this version did not write) is not dead."""
    parts = owner.split("|")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, boot, pid, start = parts
    here, booted = _host()
    if host != here:
        return False
    if boot != booted:
        return bool(boot and booted)
    found = _start_ticks(int(pid))
    if found is None:
        return True
    return bool(start and found and start != found)
