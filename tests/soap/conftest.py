"""In-process tests here that take ``store`` run once per backend (see tests/backends.py)."""

from backends import (  # noqa: F401
    database_url,
    postgres_database_url,
    postgres_url,
    store,
)
