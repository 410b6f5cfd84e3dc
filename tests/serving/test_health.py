"""/healthz says the process runs; /readyz says the database answers (in-process; the
outage itself is test_database_outage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inprocess import app_on


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_health_and_readiness(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
    with app_on(request, backend, tmp_path) as app:
        assert app.http.get("/healthz").text == "ok\n"
        ready = app.http.get("/readyz")
        assert (ready.status_code, ready.text) == (200, "ready\n")
        head = app.http.head("/healthz")
        assert head.status_code == 200
