"""The ``serve`` flags for the config file, call limits and fault injection."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

import click

from leadsync.cli.config_cmd import config_option, load_settings
from leadsync.config import Settings

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    config_option,
    click.option(
        "--daily-quota",
        default=None,
        type=click.IntRange(0),
        help="Calls a day per API user, reset at midnight US Central (0: no limit).",
    ),
    click.option(
        "--rate",
        "rate_limit",
        default=None,
        metavar="N/WINDOW",
        help="Calls per window per API user, for example 100/20s.",
    ),
    click.option(
        "--concurrency",
        "concurrency_limit",
        default=None,
        type=click.IntRange(0),
        help="Concurrent calls per API user (0: no limit).",
    ),
    click.option(
        "--marketo-limits",
        is_flag=True,
        default=None,
        help="Marketo's limits: 10000 calls a day, 100 per 20 s, 10 at once; the limits given"
        " explicitly win.",
    ),
    click.option(
        "--inject",
        multiple=True,
        metavar="RULE",
        help="A fault rule such as op=syncMultipleLeads,code=20023,times=2 (repeatable;"
        " docs/testing.md).",
    ),
    click.option("--seed", default=None, help="Seed of the fault rules that name none."),
    click.option(
        "--admin-token",
        default=None,
        help="Enables the admin API at /admin for clients sending this bearer token.",
    ),
    click.option(
        "--metrics/--no-metrics",
        default=None,
        help="Serve Prometheus metrics at /metrics. [default: on, to loopback clients]",
    ),
    click.option(
        "--metrics-token",
        default=None,
        help="Serve /metrics to any client sending this bearer token (not only loopback).",
    ),
)


def serve_options(func: F) -> F:
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def settings_from_flags(flags: MutableMapping[str, Any]) -> Settings:
    """Defaults, then the config file, then the environment, then the flags."""
    config_path = flags.pop("config_path", None)
    inject = flags.pop("inject", ())
    if inject:
        flags["inject"] = "; ".join(inject)
    return load_settings(config_path).with_overrides(**flags)
