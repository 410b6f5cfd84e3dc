"""Tests here that take ``database_url`` or ``store`` run once per backend (tests/backends.py)."""

from backends import (  # noqa: F401
    database_url,
    postgres_database_url,
    postgres_url,
    store,
)
