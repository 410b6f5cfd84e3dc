"""The admin API and the HTTP side of fault injection (docs/testing.md)."""

from leadsync.admin.routes import admin_routes
from leadsync.admin.shaper import shape_calls

__all__ = ["admin_routes", "shape_calls"]
