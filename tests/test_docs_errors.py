"""docs/errors.md lists every fault code of the catalogue, and is current."""

from __future__ import annotations

from pathlib import Path

from leadsync.docs_errors import main, render
from leadsync.errors import CATALOGUE
from support import REPO

DOC = REPO / "docs" / "errors.md"


def test_the_file_is_what_the_generator_writes() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/errors.md is out of date: run python -m leadsync.docs_errors"
    )


def test_every_code_a_rule_may_name_has_a_row() -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    assert [int(row.split("|")[1]) for row in rows[2:]] == sorted(CATALOGUE)


def test_check_mode(tmp_path: Path) -> None:
    out = tmp_path / "errors.md"
    assert main(["--output", str(out), "--check"]) == 1
    assert main(["--output", str(out)]) == 0
    assert main(["--output", str(out), "--check"]) == 0
