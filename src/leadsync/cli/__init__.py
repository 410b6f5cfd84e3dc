"""The ``leadsync`` command: a thin layer over the library.

Library errors become one line ``Error: ...`` and a non-zero exit; no traceback reaches
the user. Each command family lives in its own module and registers itself on ``main``.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from leadsync import __version__
from leadsync.cli.setting_options import setting_option
from leadsync.config import BY_NAME
from leadsync.errors import ConfigError, StoreError
from leadsync.store.base import AlreadyExists, SchemaMissing, SchemaTooNew, SchemaTooOld

#: Exceptions whose text is meant for the user as it is.
USER_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    StoreError,
    AlreadyExists,
    SchemaMissing,
    SchemaTooNew,
    SchemaTooOld,
)


class LeadsyncGroup(click.Group):
    """Turns expected failures into one line ``Error: ...`` and a non-zero exit."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except Exception as exc:
            # Whatever escaped the commands' own handling: one line, never a traceback.
            click.echo(f"Error: unexpected {type(exc).__name__}: {_one_line(exc)}", err=True)
            sys.exit(1)
        if isinstance(result, int) and result:
            sys.exit(result)
        return result

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise click.ClickException(_one_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@click.group(cls=LeadsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="leadsync")
def main() -> None:
    """A self-hosted lead database that speaks Marketo's SOAP API."""


database_option = setting_option("database_url", envvar=BY_NAME["database_url"].env)


def _register() -> None:
    # Imported for their side effect of adding commands to ``main``.
    from leadsync.cli import (  # noqa: F401
        bridge,
        config_cmd,
        console_users,
        db,
        fields,
        jobs,
        leads,
        lists,
        push,
        reset,
        serve,
        services,
        users,
    )


_register()
