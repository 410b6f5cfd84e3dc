"""Click options made from the settings' declarations (``leadsync.config.Settings``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from leadsync.config import BY_NAME, SETTINGS, Setting

F = TypeVar("F", bound=Callable[..., Any])


def setting_option(name: str, **extra: Any) -> Callable[[F], F]:
    """The flag of setting ``name``; it gives None when absent, so that it overrides nothing."""
    declared = BY_NAME[name]
    if declared.flag is None:
        raise ValueError(f"setting {name} has no flag")
    kwargs: dict[str, Any] = {
        "default": None,
        "help": f"{declared.help} [default: {declared.default_text}]"
        if declared.default_text
        else declared.help,
        "metavar": declared.metavar,
    }
    kind = type(declared.default)
    if declared.joined_by is not None:
        kwargs["multiple"] = True
        kwargs["callback"] = _joiner(declared.joined_by)
    elif declared.values:
        kwargs["type"] = click.Choice(declared.values)
        kwargs["callback"] = _parser(declared)
    elif kind is bool and "/" not in declared.flag:
        kwargs["is_flag"] = True
    elif kind is int:
        kwargs["type"] = click.IntRange(declared.minimum, declared.maximum)
    return click.option(declared.flag, name, **kwargs | extra)


def setting_options(func: F) -> F:
    """Every setting that has a flag, as options of ``func``, in the order of ``Settings``."""
    for declared in reversed(SETTINGS):
        if declared.flag is not None:
            func = setting_option(declared.name)(func)
    return func


def _joiner(separator: str) -> Callable[[click.Context, click.Parameter, Any], str | None]:
    def join(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> str | None:
        return separator.join(value) if value else None

    return join


def _parser(declared: Setting) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def parse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        return declared.parse(value, f"bad value for {declared.flag}")

    return parse
