"""The ``serve`` flags: the config file, and one flag per setting that has one."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

import click

from leadsync.cli.config_cmd import config_option, load_settings
from leadsync.cli.setting_options import setting_options
from leadsync.config import Settings

F = TypeVar("F", bound=Callable[..., Any])

no_migrate_option = click.option(
    "--no-migrate", is_flag=True, help="Refuse to start on a schema that needs migrating."
)


def serve_options(func: F) -> F:
    return setting_options(config_option(no_migrate_option(func)))


def settings_from_flags(flags: MutableMapping[str, Any]) -> Settings:
    """Defaults, then the config file, then the environment, then the flags."""
    config_path = flags.pop("config_path", None)
    return load_settings(config_path).with_overrides(**flags)
