"""The web console under /console (docs/console.md): server-rendered pages to look at and
operate the lead database, for the people listed by ``leadsync console add-user``."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from leadsync.config import Settings
from leadsync.store.base import Store


def console_routes(
    store: Store, settings: Settings, limits_changed: Callable[[], None], faults_consulted: bool
) -> list[BaseRoute]:
    """Everything under /console. ``faults_consulted`` says whether calls look at fault rules
    (the page says so when they do not)."""
    from leadsync.console.bridge import BridgePage
    from leadsync.console.jobs import JobPages
    from leadsync.console.pages import Pages
    from leadsync.console.web import Console

    pages = Pages(store, settings, limits_changed=limits_changed, faults_consulted=faults_consulted)
    table = {
        **pages.table(),
        **JobPages(store).table(),
        **BridgePage(store, settings).table(),
    }
    return Console(store, settings).routes(table)
