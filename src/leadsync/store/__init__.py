"""Lead storage backends, chosen by database URL."""

from __future__ import annotations

from leadsync.errors import ConfigError
from leadsync.store.base import Store

DEFAULT_DATABASE_URL = "sqlite:///./leadsync.db"


def open_store(
    url: str,
    *,
    migrate: bool = True,
    check: bool = True,
    create: bool | None = None,
    wait_seconds: float | None = None,
) -> Store:
    """Open the backend named by ``url``; drivers are imported only when needed.

    ``migrate`` applies pending migrations; without it, ``check`` refuses a schema that is
    not exactly the one this leadsync knows (``SchemaMissing`` when there is none at all).
    Either way a newer schema raises ``SchemaTooNew``. ``create`` (by default: ``migrate``)
    lets an SQLite file come into being; without it a missing file raises ``SchemaMissing``
    and nothing is written before the schema is found. ``wait_seconds`` bounds how long a
    call waits for a database connection (PostgreSQL; by default the backend's own bound).
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from leadsync.store.sqlite import SQLiteStore

        store: Store = SQLiteStore(url, create=migrate if create is None else create)
    elif scheme in ("postgresql", "postgres"):
        try:
            from leadsync.store.postgres import PostgresStore  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigError(f"PostgreSQL support is not available: {exc}") from exc
        store = (
            PostgresStore(url) if wait_seconds is None else PostgresStore(url, timeout=wait_seconds)
        )
    else:
        raise ConfigError(
            f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    try:
        if migrate:
            store.migrate()
        elif check:
            store.schema_version()
    except BaseException:
        store.close()
        raise
    return store


__all__ = ["DEFAULT_DATABASE_URL", "Store", "open_store"]
