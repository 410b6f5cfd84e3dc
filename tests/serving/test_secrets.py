"""Secrets stay out of worker environments and out of the log (real server, two workers)."""

from __future__ import annotations

from pathlib import Path

import httpx

from support import DEMO_KEY, envelope, running_server

TOKEN = "admin-token-that-must-not-leak"
METRICS_TOKEN = "metrics-token-that-must-not-leak"


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def _environment(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def test_workers_get_secrets_without_their_environment(tmp_path: Path) -> None:
    flags = ("--workers", "2", "--admin-token", TOKEN, "--metrics-token", METRICS_TOKEN)
    with running_server(tmp_path, *flags) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        for _ in range(10):
            got = httpx.get(server.base_url + "/admin/faults", headers=headers, timeout=30)
            assert got.status_code == 200, got.text
        pids = _descendants(server.process.pid)
        assert len(pids) >= 2
        for pid in [server.process.pid, *pids]:
            environment = _environment(pid)
            assert TOKEN.encode() not in environment
            assert METRICS_TOKEN.encode() not in environment
            assert server.database_url.encode() not in environment


def test_no_log_line_holds_a_key_a_token_or_a_signature(tmp_path: Path) -> None:
    with running_server(tmp_path, "--admin-token", TOKEN) as server:
        body = envelope(
            "getLead", "<leadKey><keyType>IDNUM</keyType><keyValue>1</keyValue></leadKey>"
        )
        signature = body.split("<requestSignature>")[1].split("<")[0]
        server.post(body)
        server.post(body.replace(signature, "0" * 40))
        server.post(body.replace("<requestTimestamp>", "<requestTimestamp>x"))
        httpx.get(server.base_url + "/admin/faults", headers={"Authorization": "Bearer wrong"})
        httpx.get(server.base_url + "/admin/faults", headers={"Authorization": f"Bearer {TOKEN}"})
        log = server.log()
    assert "op=getLead" in log
    for secret in (DEMO_KEY, TOKEN, signature, "0" * 40):
        assert secret not in log
