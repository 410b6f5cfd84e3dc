"""docs/bridge.md's operation table says which operations bridge mode forwards, as the code
does."""

from __future__ import annotations

from leadsync.bridge.service import BRIDGED
from leadsync.soap.wsdl import wsdl_operations
from support import REPO


def _table() -> dict[str, str]:
    text = (REPO / "docs" / "bridge.md").read_text(encoding="utf-8")
    section = text.split("## Operations", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1]
    return rows


def test_every_operation_is_in_the_table_with_what_bridge_mode_does() -> None:
    table = _table()
    assert sorted(table) == sorted(wsdl_operations())
    assert {name for name, state in table.items() if state == "forwarded"} == set(BRIDGED)
    assert {state for name, state in table.items() if name not in BRIDGED} == {"20019"}
