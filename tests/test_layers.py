"""The layers hold: only store/ knows the database drivers (stores translate their errors)."""

from __future__ import annotations

import ast
from pathlib import Path

from support import REPO

SRC = REPO / "src" / "leadsync"
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool")


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and node.value in DRIVERS:
            names.add(node.value)  # sys.modules.get("psycopg") and the like
    return names


def test_no_module_above_store_knows_a_driver() -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(_imported(path) & set(DRIVERS))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] != "store"
    }
    assert {path: found for path, found in offenders.items() if found} == {}
