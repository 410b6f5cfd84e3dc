"""``leadsync config show``, and the ``--config`` option of the commands that read settings.

Settings come from, in rising order of precedence: the defaults, a TOML config file, the
``LEADSYNC_*`` environment variables, and a command's flags.
"""

from __future__ import annotations

import enum
import json
import os
import re
from typing import Any

import click

from leadsync.cli import main
from leadsync.config import BY_NAME, SETTINGS, Settings, from_env, from_file

config_option = click.option(
    "--config",
    "config_path",
    envvar="LEADSYNC_CONFIG",
    default=None,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="A TOML file of settings; LEADSYNC_* variables and flags override it.",
)

_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@]*:)([^@]*)(@)", re.IGNORECASE)


def load_settings(config_path: str | None) -> Settings:
    """The defaults, then the config file, then the environment."""
    return from_env(from_file(config_path) if config_path else None)


def mask(setting: str, value: str) -> str:
    """``value`` fit to print: secrets starred, a password in a database URL too."""
    if BY_NAME[setting].secret:
        return "********" if value else ""
    return _URL_PASSWORD.sub(r"\1********\3", value)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, int | float):
        return str(value)
    # A JSON string of printable text is also a TOML basic string.
    return json.dumps(str(value), ensure_ascii=False)


@main.group("config")
def config_group() -> None:
    """Inspect the settings leadsync runs with."""


@config_group.command("show")
@config_option
def show(config_path: str | None) -> None:
    """Print the effective settings (as TOML, secrets masked) and where each comes from."""
    defaults = Settings()
    from_config = from_file(config_path) if config_path else defaults
    effective = from_env(from_config)
    if config_path:
        click.echo(f"# config file: {config_path}")
    for declared in SETTINGS:
        name = declared.name
        value = getattr(effective, name)
        if os.environ.get(declared.env):
            source = f"env {declared.env}"
        elif getattr(from_config, name) != getattr(defaults, name):
            source = "config file"
        else:
            source = "default"
        shown = mask(name, value) if isinstance(value, str) else value
        click.echo(f"{name} = {_toml(shown)}  # {source}")
