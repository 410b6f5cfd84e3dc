"""What holds a client's calls back, as a progress display reads it: the rate budget or a
retry's backoff (a clock moved by hand, never a sleep)."""

from __future__ import annotations

from leadsync.client import Client, RateLimiter


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.seen: list[tuple[float, str | None]] = []

    def __call__(self) -> float:
        return self.now


def test_the_rate_limit_says_it_is_waiting_and_for_how_long() -> None:
    clock = ManualClock()
    client: Client

    def sleep(seconds: float) -> None:
        # What a progress display would read while the budget holds a call back.
        clock.seen.append((seconds, client.waiting()))
        clock.now += seconds

    limiter = RateLimiter(2, 20, clock=clock, sleep=sleep)
    client = Client("http://127.0.0.1:9/soap", "u", "k", rate_limit=limiter)
    try:
        assert client.waiting() is None
        limiter.acquire()
        clock.now += 8
        limiter.acquire()
        assert client.waiting() is None
        limiter.acquire()  # the window is full for 12 more seconds
        assert clock.seen == [(12.0, "rate limit 2/20s, 12 s")]
        assert client.waiting() is None
    finally:
        client.close()


def test_no_budget_never_waits() -> None:
    with Client("http://127.0.0.1:9/soap", "u", "k", rate_limit=None) as client:
        assert client.waiting() is None
