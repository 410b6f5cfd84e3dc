"""docs/rest.md lists every Marketo endpoint and says which leadsync emulates."""

from __future__ import annotations

from leadsync.rest.routes import Router, endpoint_table
from support import REPO

BEGIN = "<!-- endpoint table: begin -->\n"
END = "<!-- endpoint table: end -->"


def test_endpoint_table_is_current() -> None:
    text = (REPO / "docs/rest.md").read_text(encoding="utf-8")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert table == endpoint_table(Router()), "regenerate with: python -m leadsync.rest.routes"
