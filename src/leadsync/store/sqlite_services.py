"""SQLite storage for REST API services and access tokens (see ``store.services``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from leadsync.model import AccessToken, ApiService
from leadsync.store.base import AlreadyExists
from leadsync.store.handles import SQLiteHandle
from leadsync.store.services import ServiceStore

#: How long an expired token is remembered (to answer 602 rather than 601).
KEEP_EXPIRED = timedelta(days=1)


def _us(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def _at(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


class SQLiteServices(ServiceStore):
    def __init__(self, store: SQLiteHandle) -> None:
        self._store = store

    def add_service(self, service: ApiService) -> None:
        with self._store._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO rest_services (client_id, name, client_secret, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (
                        service.client_id,
                        service.name,
                        service.client_secret,
                        _us(service.created_at),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(
                    f"a service with client id {service.client_id!r} exists already"
                ) from exc

    def get_service(self, client_id: str) -> ApiService | None:
        rows = self._store._fetch(
            "SELECT client_id, name, client_secret, created_at FROM rest_services"
            " WHERE client_id = ?",
            (client_id,),
        )
        return ApiService(rows[0][0], rows[0][1], rows[0][2], _at(rows[0][3])) if rows else None

    def list_services(self) -> list[ApiService]:
        rows = self._store._fetch(
            "SELECT client_id, name, client_secret, created_at FROM rest_services"
            " ORDER BY name, client_id"
        )
        return [ApiService(r[0], r[1], r[2], _at(r[3])) for r in rows]

    def remove_service(self, client_id: str) -> bool:
        with self._store._transaction() as conn:
            cur = conn.execute("DELETE FROM rest_services WHERE client_id = ?", (client_id,))
            return cur.rowcount > 0

    def token_for(
        self, client_id: str, now: datetime, new_token: Callable[[], AccessToken]
    ) -> AccessToken:
        # The store's single writer serialises this read-then-insert across processes.
        with self._store._transaction() as conn:
            if not conn.execute(
                "SELECT 1 FROM rest_services WHERE client_id = ?", (client_id,)
            ).fetchone():
                raise LookupError(f"no service with client id {client_id!r}")
            conn.execute(
                "DELETE FROM rest_tokens WHERE client_id = ? AND expires_at <= ?",
                (client_id, _us(now - KEEP_EXPIRED)),
            )
            row = conn.execute(
                "SELECT token, expires_at FROM rest_tokens WHERE client_id = ? AND expires_at > ?"
                " ORDER BY expires_at DESC LIMIT 1",
                (client_id, _us(now)),
            ).fetchone()
            if row:
                return AccessToken(row[0], client_id, _at(row[1]))
            token = new_token()
            conn.execute(
                "INSERT INTO rest_tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
                (token.token, token.client_id, _us(token.expires_at)),
            )
            return token

    def find_token(self, token: str) -> AccessToken | None:
        rows = self._store._fetch(
            "SELECT token, client_id, expires_at FROM rest_tokens WHERE token = ?", (token,)
        )
        return AccessToken(rows[0][0], rows[0][1], _at(rows[0][2])) if rows else None
