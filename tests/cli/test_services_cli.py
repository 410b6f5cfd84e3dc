"""``leadsync services``: add, list, remove REST API services."""

from __future__ import annotations

from click.testing import CliRunner

from backends import database_url, postgres_database_url, postgres_url  # noqa: F401
from leadsync.cli import main


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_add_list_remove(database_url: str) -> None:  # noqa: F811
    code, out = _run("services", "add", "crm sync", "--database", database_url)
    assert code == 0, out
    lines = dict(line.split(":", 1) for line in out.splitlines())
    client_id = lines["client id"].strip()
    assert len(lines["client secret"].strip()) == 32
    code, out = _run(
        "services",
        "add",
        "etl",
        "--client-id",
        "my-id",
        "--client-secret",
        "my-secret",
        "--database",
        database_url,
    )
    assert code == 0, out
    assert "my-secret" in out
    code, out = _run("services", "list", "--database", database_url)
    assert code == 0
    assert [line.split("\t")[:2] for line in out.splitlines()] == [
        [client_id, "crm sync"],
        ["my-id", "etl"],
    ]
    assert "my-secret" not in out
    code, out = _run("services", "remove", "my-id", "--database", database_url)
    assert (code, out) == (0, "removed my-id\n")


def test_errors_are_one_line(database_url: str) -> None:  # noqa: F811
    _run("services", "add", "a", "--client-id", "dup", "--database", database_url)
    code, out = _run("services", "add", "b", "--client-id", "dup", "--database", database_url)
    assert code == 1
    assert out == "Error: a service with client id 'dup' exists already\n"
    code, out = _run("services", "remove", "nope", "--database", database_url)
    assert code == 1
    assert out == "Error: no REST API service with client id 'nope'\n"
