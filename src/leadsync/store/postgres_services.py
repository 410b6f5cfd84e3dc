"""PostgreSQL storage for REST API services and access tokens (see ``store.services``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeAlias

from leadsync.model import AccessToken, ApiService
from leadsync.store.base import AlreadyExists
from leadsync.store.handles import PostgresHandle
from leadsync.store.services import ServiceStore
from leadsync.store.sqlite_services import KEEP_EXPIRED

Row: TypeAlias = tuple[Any, ...]
_WRITE_BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
_SERVICE_COLUMNS = "client_id, name, client_secret, created_at"


def _service(row: Row) -> ApiService:
    return ApiService(row[0], row[1], row[2], row[3].astimezone(UTC))


class PostgresServices(ServiceStore):
    def __init__(self, store: PostgresHandle) -> None:
        self._store = store

    def add_service(self, service: ApiService) -> None:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            cur = conn.execute(
                f"INSERT INTO rest_services ({_SERVICE_COLUMNS}) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (client_id) DO NOTHING",
                (service.client_id, service.name, service.client_secret, service.created_at),
            )
            if cur.rowcount == 0:
                raise AlreadyExists(
                    f"a service with client id {service.client_id!r} exists already"
                )

    def get_service(self, client_id: str) -> ApiService | None:
        rows = self._store._fetch(
            f"SELECT {_SERVICE_COLUMNS} FROM rest_services WHERE client_id = %s", (client_id,)
        )
        return _service(rows[0]) if rows else None

    def list_services(self) -> list[ApiService]:
        rows = self._store._fetch(
            f"SELECT {_SERVICE_COLUMNS} FROM rest_services ORDER BY name, client_id"
        )
        return [_service(row) for row in rows]

    def remove_service(self, client_id: str) -> bool:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            cur = conn.execute("DELETE FROM rest_services WHERE client_id = %s", (client_id,))
            return cur.rowcount > 0

    def token_for(
        self, client_id: str, now: datetime, new_token: Callable[[], AccessToken]
    ) -> AccessToken:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            # The service's row lock makes concurrent identity calls take turns, so they
            # agree on one token.
            if not conn.execute(
                "SELECT 1 FROM rest_services WHERE client_id = %s FOR UPDATE", (client_id,)
            ).fetchone():
                raise LookupError(f"no service with client id {client_id!r}")
            conn.execute(
                "DELETE FROM rest_tokens WHERE client_id = %s AND expires_at <= %s",
                (client_id, now - KEEP_EXPIRED),
            )
            row = conn.execute(
                "SELECT token, expires_at FROM rest_tokens WHERE client_id = %s"
                " AND expires_at > %s ORDER BY expires_at DESC LIMIT 1",
                (client_id, now),
            ).fetchone()
            if row:
                return AccessToken(row[0], client_id, row[1].astimezone(UTC))
            token = new_token()
            conn.execute(
                "INSERT INTO rest_tokens (token, client_id, expires_at) VALUES (%s, %s, %s)",
                (token.token, token.client_id, token.expires_at),
            )
            return token

    def find_token(self, token: str) -> AccessToken | None:
        rows = self._store._fetch(
            "SELECT token, client_id, expires_at FROM rest_tokens WHERE token = %s", (token,)
        )
        return AccessToken(rows[0][0], rows[0][1], rows[0][2].astimezone(UTC)) if rows else None
