"""Tests here that take ``store`` or ``database_url`` run once per backend (tests/backends.py)."""

from backends import (  # noqa: F401
    database_url,
    postgres_database_url,
    postgres_store,
    postgres_url,
    store,
)
