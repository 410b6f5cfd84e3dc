"""Small promises of the command line: -V, a declined reset, shell completion documented."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from leadsync import __version__
from leadsync.cli import main
from support import REPO


def test_short_version_flag() -> None:
    done = CliRunner().invoke(main, ["-V"])
    assert (done.exit_code, done.output) == (0, f"leadsync, version {__version__}\n")


def test_declined_reset_exits_1_and_says_nothing_changed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert CliRunner().invoke(main, ["db", "upgrade", "--database", db]).exit_code == 0
    done = CliRunner().invoke(main, ["reset", "--database", db], input="n\n")
    assert done.exit_code == 1
    assert done.output.endswith("nothing was changed\n")
    assert "Aborted" not in done.output


def test_shell_completion_is_documented() -> None:
    text = (REPO / "docs/cli.md").read_text(encoding="utf-8")
    assert "_LEADSYNC_COMPLETE=bash_source leadsync" in text
    assert "_LEADSYNC_COMPLETE=zsh_source leadsync" in text
    assert "_LEADSYNC_COMPLETE=fish_source leadsync" in text
