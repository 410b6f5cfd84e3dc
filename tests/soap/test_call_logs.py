"""Logs an operator can ship: each call's fields as one JSON object a line, and a failed
authentication logged with the user id tried, never the key or the signature."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from inprocess import serving_app
from leadsync.cli import main
from leadsync.config import from_env
from leadsync.logs import JsonFormatter
from support import envelope, lead_record, running_server, sync_params

SECRET = "s3cret-key-never-logged"


class _Json(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def json_lines() -> Iterator[list[str]]:
    logger = logging.getLogger("leadsync.calls")
    handler = _Json()
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def test_a_call_is_one_json_object_with_its_fields(tmp_path: Path) -> None:
    with serving_app(tmp_path, users=[("alice", SECRET)]) as app, json_lines() as lines:
        params = sync_params([lead_record("a@x.com"), lead_record("b@x.com")])
        assert app.post(envelope("syncMultipleLeads", params, "alice", SECRET)).status_code == 200
        app.post(envelope("getCampaignsForSource", "", "alice", SECRET))
    ok, fault = (json.loads(line) for line in lines)
    assert ok["level"] == "info"
    assert ok["time"].endswith("+00:00")
    assert {k: ok[k] for k in ("user", "operation", "records", "outcome", "created")} == {
        "user": "alice",
        "operation": "syncMultipleLeads",
        "records": 2,
        "outcome": "ok",
        "created": 2,
    }
    assert ok["duration_ms"] >= 0
    assert (fault["outcome"], fault["fault_code"]) == ("fault", 20019)
    assert fault["operation"] == "getCampaignsForSource"


def test_a_failed_authentication_logs_who_tried_and_nothing_secret(tmp_path: Path) -> None:
    with serving_app(tmp_path, users=[("alice", SECRET)]) as app, json_lines() as lines:
        body = envelope(
            "syncMultipleLeads", sync_params([lead_record("c@x.com")]), "alice", "wrong"
        )
        app.post(body)
        app.post(envelope("syncMultipleLeads", sync_params([]), "mallory\nuser=alice", "k"))
        text_log = app.log()
    first, second = (json.loads(line) for line in lines)
    assert (first["user"], first["outcome"], first["fault_code"]) == ("alice", "fault", 20014)
    assert second["user"] == "mallory\\nuser=alice"
    assert "user=alice op=syncMultipleLeads fault=20014" in text_log
    assert "\nuser=alice" not in text_log.replace("\nINFO", "")
    for line in [*lines, text_log]:
        assert SECRET not in line
        assert "wrong" not in line
        assert "requestSignature" not in line


def test_log_format_is_a_setting() -> None:
    assert from_env(environ={}).log_format == "text"
    assert from_env(environ={"LEADSYNC_LOG_FORMAT": "json"}).log_format == "json"
    done = CliRunner().invoke(main, ["serve", "--log-format", "xml"])
    assert done.exit_code == 2


def test_a_server_logs_json_lines_only(tmp_path: Path) -> None:
    with running_server(tmp_path, "--log-format", "json") as srv:
        srv.post(
            envelope(
                "syncMultipleLeads", sync_params([lead_record("j@x.com")]), srv.user_id, srv.key
            )
        )
        log = srv.log()
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(r.get("operation") == "syncMultipleLeads" for r in records)
    assert any(r["logger"].startswith("uvicorn") for r in records)
    banner = [line for line in log.splitlines() if not line.startswith("{")]
    assert all(not line.startswith(("INFO", "WARNING", "ERROR")) for line in banner), banner
