"""The storage contract for REST API services and their access tokens (docs/rest.md).

Tokens live in the database so that every worker process and host sharing it accepts a
token any of them issued. Times are passed in by the caller, never read from the database's
clock, so a test can drive them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime

from leadsync.model import AccessToken, ApiService


class ServiceStore(abc.ABC):
    @abc.abstractmethod
    def add_service(self, service: ApiService) -> None:
        """Raises ``AlreadyExists`` when a service has that client id."""

    @abc.abstractmethod
    def get_service(self, client_id: str) -> ApiService | None: ...

    @abc.abstractmethod
    def list_services(self) -> list[ApiService]:
        """Every service, by name then client id."""

    @abc.abstractmethod
    def remove_service(self, client_id: str) -> bool:
        """Remove the service and every token it holds; False when there was none."""

    @abc.abstractmethod
    def token_for(
        self, client_id: str, now: datetime, new_token: Callable[[], AccessToken]
    ) -> AccessToken:
        """The service's token that is still valid at ``now``, else ``new_token()`` stored.

        Atomic across processes: two calls at once for one service get the same token.
        Tokens that expired a day or more before ``now`` are forgotten on the way. Raises
        ``LookupError`` when there is no such service.
        """

    @abc.abstractmethod
    def find_token(self, token: str) -> AccessToken | None:
        """The token, expired or not, while it is remembered."""
