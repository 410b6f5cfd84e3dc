"""Settings are declared once: flags, environment, config file and docs all come from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leadsync.cli.serve import serve
from leadsync.cli.serve_options import settings_from_flags
from leadsync.config import SETTINGS, Settings, as_environment, from_env, from_file
from leadsync.docs_settings import main, render
from leadsync.errors import ConfigError
from leadsync.operations.sync import UnknownAttributePolicy
from support import REPO

DOC = REPO / "docs" / "deployment.md"

#: A value other than the default for every setting.
CHANGED: dict[str, Any] = {
    "host": "0.0.0.0",
    "port": 9090,
    "public_url": "https://leads.example.com",
    "ssl_certfile": "/etc/leadsync/cert.pem",
    "ssl_keyfile": "/etc/leadsync/key.pem",
    "workers": 3,
    "threads": 6,
    "max_body_bytes": 4096,
    "log_level": "debug",
    "log_format": "json",
    "max_body_bytes_in_flight": 8 * 1024 * 1024,
    "body_wait_seconds": 3,
    "max_elements": 5000,
    "max_attributes": 4000,
    "max_header_bytes": 16 * 1024,
    "header_timeout_seconds": 4,
    "body_timeout_seconds": 6,
    "body_min_bytes": 512,
    "keep_alive_seconds": 2,
    "max_connections": 50,
    "database_url": "sqlite:////tmp/elsewhere.db",
    "database_wait_seconds": 5,
    "auth_window_seconds": 60,
    "workspace": "Futures Institute",
    "max_records_per_call": 3,
    "unknown_attributes": UnknownAttributePolicy.RECORD,
    "sync_multiple_writes_key_email": True,
    "sync_lead_writes_key_email": False,
    "sync_lead_failure_faults": False,
    "leads_batch_size": 7,
    "leads_batch_max": 70,
    "max_time_range_days": 0,
    "daily_quota": 500,
    "rate_limit": "10/5s",
    "concurrency_limit": 4,
    "marketo_limits": True,
    "quota_timezone": "UTC",
    "lease_seconds": 30,
    "bulk_dir": "/srv/leadsync-jobs",
    "bulk_threads": 1,
    "bulk_export_daily_bytes": 1000,
    "admin_token": "t0ken",
    "inject": "op=getLead,code=20103; status=503,p=0.1",
    "seed": "42",
    "rest_query_token": True,
    "rest_daily_quota": 700,
    "rest_rate_limit": "7/2s",
    "rest_concurrency_limit": 3,
    "upstream_url": "https://123-ABC-456.mktorest.com",
    "upstream_client_id": "bridge-id",
    "upstream_client_secret": "bridge-s3cret",
    "upstream_foreign_id_field": "erpId",
    "upstream_ca_bundle": "/etc/leadsync/ca.pem",
    "upstream_insecure_skip_tls_verify": True,
    "upstream_wait_seconds": 12,
    "upstream_timeout_seconds": 45,
    "bridge_extract_wait_seconds": 300,
    "upstream_daily_quota": 10_000,
    "upstream_rate_limit": "50/20s",
    "upstream_concurrency": 5,
    "bridge_journal_days": 7,
    "metrics": False,
    "metrics_token": "m3trics",
    "calls_history": 5,
    "console_idle_minutes": 5,
}


def flags(*args: str) -> Settings:
    ctx = serve.make_context("serve", list(args))
    params = dict(ctx.params)
    params.pop("no_migrate")
    return settings_from_flags(params)


def test_the_docs_table_is_what_the_declarations_make(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == render(text), "docs/deployment.md: run python -m leadsync.docs_settings"
    stale = tmp_path / "deployment.md"
    stale.write_text(text.replace("| `port` |", "| `bort` |"), encoding="utf-8")
    assert main(["--output", str(stale), "--check"]) == 1
    assert main(["--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text


def test_every_setting_is_covered_here() -> None:
    assert [s.name for s in SETTINGS] == list(CHANGED)
    assert all(getattr(Settings(), name) != value for name, value in CHANGED.items())


def test_the_environment_round_trips_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = Settings(**CHANGED)
    env = as_environment(changed)
    assert env["LEADSYNC_DATABASE_URL"] == "sqlite:////tmp/elsewhere.db"
    assert env["LEADSYNC_SYNC_LEAD_FAILURE_FAULTS"] == "status"
    assert from_env(environ=env) == changed
    assert from_env(environ={}) == Settings()
    assert (
        from_env(environ={"LEADSYNC_SYNC_LEAD_FAILURE_FAULTS": "0"}).sync_lead_failure_faults
        is False
    )
    assert from_env(environ={"LEADSYNC_LOG_LEVEL": "WARNING"}).log_level == "warning"
    assert from_env(environ={"LEADSYNC_MARKETO_LIMITS": "1"}).marketo_limits is True
    assert from_env(environ={"LEADSYNC_PORT": ""}).port == 8080


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LEADSYNC_PORT", "eighty", "bad value for LEADSYNC_PORT: 'eighty' (a whole number)"),
        ("LEADSYNC_PORT", "70000", "bad value for LEADSYNC_PORT: 70000 (0 to 65535)"),
        ("LEADSYNC_WORKERS", "0", "bad value for LEADSYNC_WORKERS: 0 (1 to 64)"),
        ("LEADSYNC_MARKETO_LIMITS", "maybe", "bad value for LEADSYNC_MARKETO_LIMITS: 'maybe'"),
        (
            "LEADSYNC_UNKNOWN_ATTRIBUTES",
            "ignore",
            "bad value for LEADSYNC_UNKNOWN_ATTRIBUTES: 'ignore' (one of fault, record)",
        ),
        ("LEADSYNC_LOG_LEVEL", "loud", "bad value for LEADSYNC_LOG_LEVEL: 'loud'"),
    ],
)
def test_bad_environment_values_are_refused(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        from_env(environ={variable: value})
    assert str(refused.value).startswith(message)


def test_a_config_file_sets_every_setting(tmp_path: Path) -> None:
    config = tmp_path / "leadsync.toml"
    lines = []
    for name, value in CHANGED.items():
        key = name.replace("_", "-") if name.startswith("max") else name
        if name == "inject":
            lines.append(f"{key} = {value.split('; ')!r}")
        elif isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert from_file(config) == Settings(**CHANGED)
    config.write_text('sync_lead_failure_faults = "status"\nworkers = 65\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad value for workers: 65 \(1 to 64\)"):
        from_file(config)


def test_flags_set_what_they_name_and_override_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CHANGED:
        monkeypatch.delenv(f"LEADSYNC_{name.upper()}", raising=False)
    given = flags(
        *("--host", "0.0.0.0", "--port", "9090", "--public-url", "https://leads.example.com"),
        *("--ssl-certfile", "/etc/leadsync/cert.pem", "--ssl-keyfile", "/etc/leadsync/key.pem"),
        *("--workers", "3", "--threads", "6", "--max-body-bytes", "4096"),
        *("--log-level", "debug", "--log-format", "json"),
        *("--database", "sqlite:////tmp/elsewhere.db"),
        *("--auth-window", "60", "--max-records", "3", "--unknown-attributes", "record"),
        *("--no-sync-lead-key-email", "--sync-lead-failure", "status"),
        *("--leads-batch-max", "70", "--max-time-range-days", "0", "--daily-quota", "500"),
        *("--rate", "10/5s", "--concurrency", "4", "--marketo-limits"),
        *("--admin-token", "t0ken", "--seed", "42", "--no-metrics", "--metrics-token", "m3trics"),
        "--rest-query-token",
        *("--rest-daily-quota", "700", "--rest-rate", "7/2s", "--rest-concurrency", "3"),
        *("--inject", "op=getLead,code=20103", "--inject", "status=503,p=0.1"),
        *("--upstream", "https://123-ABC-456.mktorest.com", "--upstream-client-id", "bridge-id"),
        *("--upstream-client-secret", "bridge-s3cret", "--foreign-id-field", "erpId"),
        *("--upstream-ca-bundle", "/etc/leadsync/ca.pem", "--upstream-insecure-skip-tls-verify"),
        *("--upstream-wait", "12", "--upstream-timeout", "45", "--bridge-journal-days", "7"),
        *("--bridge-extract-wait", "300"),
        *("--calls-history", "5"),
        *("--bulk-dir", "/srv/leadsync-jobs", "--bulk-threads", "1"),
    )
    unflagged = {"workspace", "sync_multiple_writes_key_email", "leads_batch_size"}
    unflagged |= {"quota_timezone", "lease_seconds"}
    unflagged |= {"max_body_bytes_in_flight", "body_wait_seconds", "max_header_bytes"}
    unflagged |= {"header_timeout_seconds", "body_timeout_seconds", "body_min_bytes"}
    unflagged |= {"keep_alive_seconds", "max_connections", "database_wait_seconds"}
    unflagged |= {"max_elements", "max_attributes"}
    unflagged |= {"console_idle_minutes", "bulk_export_daily_bytes"}
    unflagged |= {"upstream_daily_quota", "upstream_rate_limit", "upstream_concurrency"}
    assert {s.name for s in SETTINGS if s.flag is None} == unflagged
    assert given == Settings(**{k: v for k, v in CHANGED.items() if k not in unflagged})
    assert flags() == Settings()
    monkeypatch.setenv("LEADSYNC_PORT", "9191")
    monkeypatch.setenv("LEADSYNC_SYNC_LEAD_WRITES_KEY_EMAIL", "no")
    assert flags().port == 9191
    assert flags("--port", "9292").port == 9292
    assert flags("--sync-lead-key-email").sync_lead_writes_key_email is True
    assert flags().sync_lead_writes_key_email is False
