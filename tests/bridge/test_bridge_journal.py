"""The journal's storage and retention, on every backend (no upstream needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backends import database_url, postgres_url, store  # noqa: F401
from leadsync.bridge.journal import DAY_MS, Journal
from leadsync.clock import SettableClock
from leadsync.config import Settings
from leadsync.store.base import Store
from leadsync.store.bridge import JournalEntry, UpstreamToken


def _entry(at_ms: int, **fields: object) -> JournalEntry:
    return JournalEntry(
        at_ms=at_ms,
        user_id="u",
        operation="syncMultipleLeads",
        duration_ms=1.5,
        **fields,  # type: ignore[arg-type]
    )


def test_entries_are_kept_then_trimmed_after_the_retention(store: Store) -> None:  # noqa: F811
    clock = SettableClock(datetime(2026, 12, 1, tzinfo=UTC))
    journal = Journal(store.bridge(), Settings(bridge_journal_days=2), clock)
    start = int(clock.now().timestamp() * 1000)
    journal.add(_entry(start, records=3, created=2, failed=1, request_ids="a#1,b#2"))
    journal.add(_entry(start + 1, fault_code=20023, upstream_codes="606"))
    clock.advance(timedelta(days=1))
    journal.add(_entry(start + DAY_MS))
    assert journal.flush()
    assert len(store.bridge().journal()) == 3
    assert [e.fault_code for e in store.bridge().journal(failed_only=True)] == [None, 20023]
    newest = store.bridge().journal(limit=2, newest_first=True)
    assert [e.id for e in newest] == [e.id for e in store.bridge().journal()][::-1][:2]
    assert len(store.bridge().journal(since_ms=start + 1)) == 2
    # Trimming happens at most once an hour.
    clock.advance(timedelta(days=1, hours=1))
    journal.add(_entry(start + 2 * DAY_MS + 3_600_000))
    journal.close()
    kept = store.bridge().journal()
    assert [e.at_ms for e in kept] == [start + DAY_MS, start + 2 * DAY_MS + 3_600_000]
    assert kept[0].duration_ms == 1.5


def test_zero_days_keeps_everything(store: Store) -> None:  # noqa: F811
    clock = SettableClock(datetime(2026, 12, 1, tzinfo=UTC))
    journal = Journal(store.bridge(), Settings(bridge_journal_days=0), clock)
    journal.add(_entry(0))
    journal.add(_entry(int(clock.now().timestamp() * 1000)))
    journal.close()
    assert len(store.bridge().journal()) == 2


def test_the_token_is_shared_and_forgotten_only_if_unchanged(store: Store) -> None:  # noqa: F811
    bridge = store.bridge()
    assert bridge.token("k") is None
    bridge.save_token("k", UpstreamToken("t1", 10))
    bridge.save_token("k", UpstreamToken("t2", 20))
    bridge.forget_token("k", "t1")
    assert bridge.token("k") == UpstreamToken("t2", 20)
    bridge.forget_token("k", "t2")
    assert bridge.token("k") is None
