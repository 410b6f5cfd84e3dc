"""docs/operations.md lists every WSDL operation with its state, and is current."""

from __future__ import annotations

from leadsync.docs_ops import IMPLEMENTED, NOT_EMULATED, main, render
from leadsync.soap.wsdl import wsdl_operations
from support import REPO

DOC = REPO / "docs" / "operations.md"


def test_the_file_is_what_the_generator_writes() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/operations.md is out of date: run python -m leadsync.docs_ops"
    )


def test_every_operation_has_one_row_with_a_state() -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    names = [row.split("`")[1] for row in rows[2:]]
    assert names == wsdl_operations()
    assert len(names) == 23
    assert all(row.endswith((f"{IMPLEMENTED} |", f"{NOT_EMULATED} |")) for row in rows[2:])


def test_check_mode(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path)) / "ops.md"
    assert main(["--output", str(out), "--check"]) == 1
    assert main(["--output", str(out)]) == 0
    assert main(["--output", str(out), "--check"]) == 0
