"""Versioned schema migrations, shipped as ``migrations/<backend>/NNNN_name.sql``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(backend: str) -> list[Migration]:
    """Every migration of ``backend`` ("sqlite", "postgres"), in version order."""
    folder = resources.files("leadsync.store.migrations").joinpath(backend)
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    # A database records only the highest version applied: a gap would be skipped for good.
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{backend} migrations are not numbered 1..n: {versions}")
    return found


def latest_version(backend: str) -> int:
    found = load_migrations(backend)
    return found[-1].version if found else 0


def check_version(backend: str, current: int, *, require_latest: bool) -> None:
    """Refuse a schema newer than this code knows, or (``require_latest``) an older one."""
    from leadsync.store.base import SchemaMissing, SchemaTooNew, SchemaTooOld

    latest = latest_version(backend)
    if require_latest and current == 0:
        raise SchemaMissing(
            "the database has no leadsync schema (is it the right database?); "
            "run 'leadsync db upgrade' to create it"
        )
    if current > latest:
        raise SchemaTooNew(
            f"the database schema is at version {current}, newer than this leadsync knows "
            f"({latest}); upgrade leadsync"
        )
    if require_latest and current < latest:
        raise SchemaTooOld(
            f"the database schema is at version {current} but this leadsync needs {latest}; "
            "run 'leadsync db upgrade'"
        )
