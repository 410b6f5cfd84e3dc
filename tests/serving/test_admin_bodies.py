"""The admin API reads bodies as the wires do: bounded in size and within the server's body
budget, after the token is checked."""

from __future__ import annotations

from pathlib import Path

from inprocess import serving_app
from leadsync.admin.routes import MAX_ADMIN_BODY_BYTES

TOKEN = "admin-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_an_oversize_admin_body_is_413_and_adds_nothing(tmp_path: Path) -> None:
    with serving_app(tmp_path, admin_token=TOKEN) as srv:
        big = b'{"rule": "op=syncLead,code=20011", "pad": "' + b"x" * MAX_ADMIN_BODY_BYTES + b'"}'
        refused = srv.http.post("/admin/faults", content=big, headers=AUTH)
        listed = srv.http.get("/admin/faults", headers=AUTH)
        fine = srv.http.post("/admin/faults", json={"rule": "op=syncLead,code=20011"}, headers=AUTH)
    assert refused.status_code == 413
    assert "over 1048576 bytes" in refused.json()["error"]
    assert listed.json()["faults"] == []
    assert fine.status_code == 201


def test_an_unauthenticated_admin_body_is_not_read(tmp_path: Path) -> None:
    with serving_app(tmp_path, admin_token=TOKEN) as srv:
        answer = srv.http.post("/admin/faults", content=b"x" * (2 * MAX_ADMIN_BODY_BYTES))
    assert answer.status_code == 401
