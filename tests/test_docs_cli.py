"""docs/cli.md names every command the CLI has."""

from __future__ import annotations

import click

from leadsync.cli import main
from support import REPO


def _commands(group: click.Group, path: str) -> list[str]:
    found = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += _commands(cmd, f"{path} {name}")
        else:
            found.append(f"{path} {name}")
    return found


def test_every_command_is_documented() -> None:
    headings = {
        line[3:].strip()
        for line in (REPO / "docs/cli.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    }
    assert set(_commands(main, "leadsync")) == headings
