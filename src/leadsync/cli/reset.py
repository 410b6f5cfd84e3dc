"""``leadsync reset``: empty the lead data between tests, keeping users and fields."""

from __future__ import annotations

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import store_for
from leadsync.cli.config_cmd import mask
from leadsync.config import from_env


@main.command()
@database_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--usage", is_flag=True, help="Also forget call counts, so limits start afresh.")
@click.option("--faults", is_flag=True, help="Also remove every fault rule.")
def reset(database_url: str | None, yes: bool, usage: bool, faults: bool) -> None:
    """Delete every lead, activity and list membership.

    API users, custom fields and static lists stay; lead ids are not reused.
    """
    url = database_url or from_env().database_url
    if not yes:
        where = mask("database_url", url)
        if not click.confirm(f"Delete every lead, activity and list membership in {where}?"):
            # Declining is an answer, not an interruption (130 is the code for SIGINT).
            click.echo("nothing was changed", err=True)
            raise SystemExit(1)
    store = store_for(url)
    try:
        leads = store.reset_leads()
        if usage:
            store.limits().reset_usage()
        removed = store.faults().remove() if faults else 0
    finally:
        store.close()
    click.echo(f"deleted {leads} lead{'' if leads == 1 else 's'}")
    if usage:
        click.echo("forgot call counts")
    if faults:
        click.echo(f"removed {removed} fault rule{'' if removed == 1 else 's'}")
