"""Usage (calls, records, rejects per user and day) is counted whether or not limits are on,
and shown by ``users usage`` and ``/admin/usage``; in-process, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
from click.testing import CliRunner
from limits_wire import TOKEN

from inprocess import serving_app
from leadsync.app import create_app
from leadsync.cli import main
from leadsync.clock import SettableClock
from leadsync.config import Settings
from leadsync.store import open_store
from support import envelope, fault, lead_record, sync_params


async def _calls(database_url: str) -> dict[str, Any]:
    store = open_store(database_url)
    store.add_user("u", "k")
    store.add_user("idle", "k")
    app = create_app(Settings(database_url=database_url, admin_token=TOKEN), store)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://leadsync") as client:

            async def sync(*emails: str, key: str = "k") -> int:
                records = [lead_record(e) for e in emails]
                body = envelope("syncMultipleLeads", sync_params(records), "u", key)
                answer = await client.post("/soap/mktows/2_2", content=body.encode())
                return answer.status_code

            assert await sync("a@x.com", "b@x.com") == 200
            assert await sync("c@x.com") == 200
            assert await sync("d@x.com", key="wrong") == 500  # unauthenticated: not counted
            answer = await client.get("/admin/usage", headers={"Authorization": f"Bearer {TOKEN}"})
            return {row["user"]: row for row in answer.json()["usage"]}
    finally:
        store.close()


def test_usage_is_counted_with_no_limit_on(database_url: str) -> None:
    rows = anyio.run(_calls, database_url)
    assert (rows["u"]["calls_today"], rows["u"]["records_today"]) == (2, 3)
    assert rows["u"]["rejects"] == {"20015": 0, "20023": 0, "20024": 0}
    assert rows["u"]["limits"]["daily_quota"] == 0
    assert (rows["idle"]["calls_today"], rows["idle"]["records_today"]) == (0, 0)
    shown = CliRunner().invoke(main, ["users", "usage", "u", "--database", database_url], env={})
    assert shown.exit_code == 0, shown.output
    assert "  calls today:      2 (no limit)" in shown.output
    assert "  records today:    3\n" in shown.output


def test_the_quota_day_and_usage_follow_the_apps_clock(tmp_path: Path, database_url: str) -> None:
    # Noon in Chicago on 15 January, then the next day: the quota resets, usage is per day.
    clock = SettableClock(datetime(2026, 1, 15, 18, tzinfo=UTC))
    with serving_app(
        tmp_path, database_url=database_url, clock=clock, daily_quota=1, admin_token=TOKEN
    ) as app:

        def sync() -> int:
            stamp = clock.now().isoformat(timespec="seconds")
            body = envelope(
                "syncMultipleLeads",
                sync_params([lead_record()]),
                app.user_id,
                app.key,
                timestamp=stamp,
            )
            answer = app.post(body)
            return 0 if answer.status_code == 200 else fault(answer).code

        assert [sync(), sync()] == [0, 20015]
        clock.advance(seconds=24 * 3600)
        assert [sync(), sync()] == [0, 20015]
        [row] = app.store.limits().usage(app.user_id, now_ms=0, day=20260116, window_ms=20_000)
    assert (row.day_calls, row.records, row.rejects[20015]) == (1, 1, 1)
