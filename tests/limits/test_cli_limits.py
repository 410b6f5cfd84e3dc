"""The command line for limits and settings: users add/update/usage, config show, --config."""

from __future__ import annotations

from pathlib import Path

from limits_wire import outcome, sync_one

from support import cli, count_leads, run_cli, running_server


def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_users_add_and_update_set_limits(tmp_path: Path) -> None:
    db = db_url(tmp_path)
    added = cli(
        *("users", "add", "alice", "--encryption-key", "k", "--database", db),
        *("--daily-quota", "500", "--rate", "10/5s"),
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == (
        "user id:        alice\n"
        "encryption key: k\n"
        "daily quota:    500\n"
        "rate:           10/5s\n"
        "concurrency:    server's\n"
    )
    updated = cli(
        *("users", "update", "alice", "--database", db),
        *("--daily-quota", "default", "--concurrency", "off", "--rate", "250/500ms"),
    )
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout == (
        "user id:        alice\n"
        "daily quota:    server's\n"
        "rate:           250/500ms\n"
        "concurrency:    off\n"
    )


def test_users_update_refuses_nonsense(tmp_path: Path) -> None:
    db = db_url(tmp_path)
    cli("users", "add", "alice", "--database", db)
    nothing = cli("users", "update", "alice", "--database", db)
    assert nothing.returncode == 2
    assert nothing.stderr.startswith("Error: nothing to change")
    nobody = cli("users", "update", "bob", "--daily-quota", "5", "--database", db)
    assert (nobody.returncode, nobody.stderr) == (1, "Error: no API user 'bob'\n")
    bad_rate = cli("users", "update", "alice", "--rate", "fast", "--database", db)
    assert bad_rate.returncode == 2
    assert "write CALLS/WINDOW" in bad_rate.stderr
    negative = cli("users", "update", "alice", "--daily-quota", "-3", "--database", db)
    assert negative.returncode == 2


def test_users_usage_shows_every_user_and_the_limits_that_apply(tmp_path: Path) -> None:
    db = db_url(tmp_path)
    cli("users", "add", "alice", "--database", db, "--concurrency", "4")
    cli("users", "add", "bob", "--database", db)
    env = {"LEADSYNC_MARKETO_LIMITS": "1"}
    shown = cli("users", "usage", "--database", db, env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (
        "alice\n"
        "  calls today:      0 of 10000  (the day ends at midnight America/Chicago)\n"
        "  records today:    0\n"
        "  calls in window:  0 (100/20s)\n"
        "  calls in flight:  0 of 4\n"
        "  rejects today:    20015: 0  20023: 0  20024: 0\n"
        "\n"
        "bob\n"
        "  calls today:      0 of 10000  (the day ends at midnight America/Chicago)\n"
        "  records today:    0\n"
        "  calls in window:  0 (100/20s)\n"
        "  calls in flight:  0 of 10\n"
        "  rejects today:    20015: 0  20023: 0  20024: 0\n"
    )
    one = cli("users", "usage", "bob", "--database", db)
    assert one.stdout.startswith("bob\n  calls today:      0 (no limit)")
    missing = cli("users", "usage", "carol", "--database", db)
    assert (missing.returncode, missing.stderr) == (1, "Error: no API user 'carol'\n")


def test_config_show_follows_the_order_of_precedence_and_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "leadsync.toml"
    config.write_text(
        'database_url = "postgresql://app:hunter2@db.internal/leads"\n'
        "daily-quota = 500\n"
        "concurrency_limit = 4\n"
        'admin_token = "from-file"\n'
        'inject = ["op=getLead,code=20103", "status=503,p=0.1"]\n'
        "seed = 42\n"
    )
    env = {"LEADSYNC_CONCURRENCY_LIMIT": "7"}
    shown = cli("config", "show", "--config", str(config), env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"# config file: {config}"
    assert 'database_url = "postgresql://app:********@db.internal/leads"  # config file' in lines
    assert "daily_quota = 500  # config file" in lines
    assert "concurrency_limit = 7  # env LEADSYNC_CONCURRENCY_LIMIT" in lines
    assert 'admin_token = "********"  # config file' in lines
    assert 'inject = "op=getLead,code=20103; status=503,p=0.1"  # config file' in lines
    assert 'seed = "42"  # config file' in lines
    assert "port = 8080  # default" in lines
    assert "hunter2" not in shown.stdout
    assert "from-file" not in shown.stdout


def test_bad_config_files_are_one_line_errors(tmp_path: Path) -> None:
    config = tmp_path / "leadsync.toml"
    config.write_text("colour = 'blue'\n")
    unknown = cli("config", "show", "--config", str(config))
    assert (unknown.returncode, unknown.stderr) == (
        1,
        f"Error: config file {config}: unknown setting 'colour'\n",
    )
    config.write_text("port = 'eighty'\n")
    wrong = cli("config", "show", "--config", str(config))
    assert wrong.stderr.startswith(f"Error: config file {config}: port must be a whole number")
    config.write_text("port = \n")
    broken = cli("config", "show", "--config", str(config))
    assert broken.stderr.startswith(f"Error: config file {config} is not valid TOML")
    missing = cli("config", "show", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: cannot read config file")


def test_serve_reads_its_config_file_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "leadsync.toml"
    config.write_text(
        "daily_quota = 3\n"
        "rate_limit = '1/60s'\n"
        'inject = ["op=syncMultipleLeads,code=20016,times=1"]\n'
    )
    flags = ("--config", str(config), "--rate", "off")
    with running_server(tmp_path, *flags, env={"LEADSYNC_DAILY_QUOTA": "2"}) as srv:
        results = [outcome(sync_one(srv)) for _ in range(4)]
        log = srv.log()
    # The injected 20016 was admitted by the limits, so it used up a call of the quota.
    assert results == [20016, 0, 20015, 20015]
    assert count_leads(srv.database_url) == 1
    assert "Limits per API user: 2 calls a day" in log
    assert "Fault rule 1: op=syncMultipleLeads,code=20016,times=1" in log


def test_serve_refuses_bad_limit_and_rule_settings(tmp_path: Path) -> None:
    db = db_url(tmp_path)
    bad_rule = run_cli("serve", "--database", db, "--inject", "op=getLead,code=1")
    assert bad_rule.returncode == 1
    assert bad_rule.stderr == (
        "Error: bad fault rule 'op=getLead,code=1': 1 is not a Marketo error code"
        " (docs/errors.md)\n"
    )
    bad_rate = run_cli("serve", "--database", db, "--rate", "100/forever")
    assert bad_rate.returncode == 1
    assert bad_rate.stderr.startswith("Error: bad rate '100/forever'")


def test_other_commands_find_the_database_of_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "leadsync.toml"
    config.write_text(f'database_url = "{db_url(tmp_path)}"\n')
    env = {"LEADSYNC_CONFIG": str(config)}
    assert cli("users", "add", "alice", "--encryption-key", "k", env=env).returncode == 0
    listed = cli("users", "list", "--database", db_url(tmp_path))
    assert listed.stdout.startswith("alice\t")
