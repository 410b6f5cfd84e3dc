"""Helpers shared by the command modules."""

from __future__ import annotations

import os
import secrets

from leadsync.config import Settings, from_env, from_file
from leadsync.store import Store, open_store


def store_for(database_url: str | None, *, create_schema: bool = False) -> Store:
    """The store named by the flag, else by ``LEADSYNC_DATABASE_URL``, else by the config file
    that ``LEADSYNC_CONFIG`` names, else the default.

    Only the commands that set a database up (``serve``, ``db upgrade``, ``users add``) pass
    ``create_schema``; every other one refuses a database without leadsync's schema
    (``SchemaMissing``, suggesting ``leadsync db upgrade``) and creates no file.
    """
    return open_store(database_url or configured().database_url, migrate=create_schema)


def configured() -> Settings:
    """The settings a command runs with: the config file ``LEADSYNC_CONFIG`` names, then
    ``LEADSYNC_*`` variables, as ``serve`` reads them."""
    config = os.environ.get("LEADSYNC_CONFIG")
    return from_env(from_file(config) if config else None)


def new_encryption_key() -> str:
    """A random key in the shape Marketo issued (hex, 40 characters)."""
    return secrets.token_hex(20)


def new_user_id() -> str:
    return "leadsync_" + secrets.token_hex(12).upper()
