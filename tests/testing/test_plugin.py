"""The pytest plugin, used the way an integration's own test suite uses it: the worked example
of docs/testing.md, in a folder of its own, run by a separate pytest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
EXAMPLE_NAME = "test_my_integration.py"


def worked_example() -> str:
    """The example test file of docs/testing.md: the code block that names itself."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    [example] = [block for block in blocks if block.startswith(f"# {EXAMPLE_NAME}\n")]
    return example


def run_outside_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n")
    (folder / EXAMPLE_NAME).write_text(worked_example())
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_outside_test_suite_uses_the_fixtures(tmp_path: Path) -> None:
    done = run_outside_pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout


def test_the_plugin_is_cheap_to_load() -> None:
    probe = (
        "import sys, pytest\n"
        "before = set(sys.modules)\n"
        "import leadsync.testing\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(done.stdout.split())
    # The wire kit's signing is all it takes from leadsync: standard library only.
    light = {"leadsync", "leadsync.testing", "leadsync.mktows", "leadsync.mktows.signing"}
    assert loaded <= {*light, "hmac", "secrets"}, loaded


def test_pytest_registers_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "leadsync_server" in done.stdout
    assert "leadsync_server_factory" in done.stdout
