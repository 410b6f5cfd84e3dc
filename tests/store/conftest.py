"""Every test here that takes ``store`` runs once per backend (see tests/backends.py)."""

from backends import (  # noqa: F401
    database_url,
    postgres_database_url,
    postgres_store,
    postgres_url,
    store,
)
