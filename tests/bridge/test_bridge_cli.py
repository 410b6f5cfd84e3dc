"""``serve --upstream`` end to end, ``leadsync bridge check`` and ``leadsync bridge log``."""

from __future__ import annotations

import json
from pathlib import Path

from bridgekit import FOREIGN_FIELD

from leadsync.testing import LeadsyncServer
from support import cli, lead_record, running_server, statuses, sync_params


def _flags(upstream: LeadsyncServer) -> list[str]:
    return [
        *("--upstream", upstream.base_url, "--upstream-client-id", upstream.client_id),
        *("--upstream-client-secret", upstream.client_secret),
        *("--foreign-id-field", FOREIGN_FIELD),
    ]


def test_serve_upstream_forwards_and_never_logs_the_secret(
    upstream: LeadsyncServer, tmp_path: Path
) -> None:
    flags = [*_flags(upstream), "--upstream-insecure-skip-tls-verify"]
    with running_server(tmp_path, *flags) as bridge:
        got = statuses(
            bridge.call("syncMultipleLeads", sync_params([lead_record("cli@example.com")]))
        )
        assert [s.status for s in got] == ["CREATED"]
        assert [lead["id"] for lead in upstream.leads("cli@example.com")] == [got[0].lead_id]
        shown = cli("config", "show", *flags)
        log = bridge.log()
        database = bridge.database_url
    assert "TLS certificate is NOT verified" in log
    assert upstream.client_secret not in log
    assert upstream.client_secret not in shown.stdout
    done = cli("bridge", "log", "--database", database)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert " syncMultipleLeads ok records=1 created=1 updated=0 failed=0 " in line
    assert cli("bridge", "log", "--failed", "--database", database).stdout == ""
    [entry] = [
        json.loads(x)
        for x in cli("bridge", "log", "--json", "--database", database).stdout.splitlines()
    ]
    assert entry["operation"] == "syncMultipleLeads"
    assert entry["created"] == 1
    assert len(entry["request_ids"]) == 2  # describe, then Sync Leads
    assert cli("bridge", "log", "--since", "1h", "--database", database).stdout.count("\n") == 1
    assert cli("bridge", "log", "--since", "2999-01-01", "--database", database).stdout == ""
    bad = cli("bridge", "log", "--since", "yesterday", "--database", database)
    assert bad.returncode == 2
    assert "--since" in bad.stderr


def test_bridge_check_prints_fields_and_quota(upstream: LeadsyncServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    done = cli("bridge", "check", *_flags(upstream)[:6], "--database", db)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines())
    assert lines["credentials"].strip() == "ok"
    assert int(lines["fields"]) > 40
    assert lines["daily quota"].strip().endswith("of 50000 calls left today")
    assert upstream.client_secret not in done.stdout


def test_bridge_check_with_bad_credentials_is_one_line(
    upstream: LeadsyncServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'bridge.db'}"
    done = cli(
        "bridge",
        "check",
        *("--upstream", upstream.base_url, "--upstream-client-id", upstream.client_id),
        *("--upstream-client-secret", "wrong", "--database", db),
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: the upstream check failed: ")
    assert len(done.stderr.splitlines()) == 1


def test_bridge_check_without_an_upstream_says_so(tmp_path: Path) -> None:
    done = cli("bridge", "check", "--database", f"sqlite:///{tmp_path / 'b.db'}")
    assert done.returncode == 1
    assert "--upstream" in done.stderr
