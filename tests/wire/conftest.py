"""Fixtures for the real-client tests."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


@pytest.fixture(scope="session")
def php() -> str:
    """PHP with its soap extension: ``make test`` installs both (``make system-deps``).

    Missing, the tests that need it fail in CI (``CI`` set, as ``.ci/run`` does) and skip
    elsewhere, so a developer without PHP can still run the rest.
    """
    found = shutil.which("php")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("php is required in CI (make test installs php-cli and php-soap)")
        pytest.skip("php is not installed (make system-deps installs it)")
    modules = subprocess.run([found, "-m"], capture_output=True, text=True, timeout=30)
    assert "soap" in modules.stdout.split(), "PHP's soap extension is missing (php-soap)"
    return found
