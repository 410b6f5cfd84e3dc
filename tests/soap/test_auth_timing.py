"""An unknown user and a bad signature cannot be told apart by how long the answer takes."""

from __future__ import annotations

import contextlib
import gc
import math
import time
from datetime import UTC, datetime

from leadsync.errors import AuthenticationFailed
from leadsync.mktows.signing import sign
from leadsync.model import ApiUser
from leadsync.soap.auth import Credentials, authenticate

SAMPLES = 100_000
NOW = datetime(2026, 1, 1, tzinfo=UTC)
STAMP = "2026-01-01T00:00:00+00:00"


def _seconds(credentials: Credentials, lookup: dict[str, ApiUser]) -> int:
    started = time.perf_counter_ns()
    with contextlib.suppress(AuthenticationFailed):
        authenticate(credentials, lookup.get, window_seconds=900, now=NOW)
    return time.perf_counter_ns() - started


def test_unknown_user_and_bad_signature_take_the_same_time() -> None:
    user = ApiUser("known_user_0000000001", "k" * 20, NOW)
    users = {user.user_id: user}
    wrong = sign("not-the-key", STAMP, user.user_id)
    bad_signature = Credentials(user.user_id, wrong, STAMP)
    unknown_user = Credentials("known_user_0000000002", wrong, STAMP)
    known: list[int] = []
    unknown: list[int] = []
    gc.disable()
    try:
        # Interleaved, so that whatever else the machine does falls on both alike, and in
        # turns first: the first of two back-to-back calls runs slower on some machines.
        for index in range(SAMPLES):
            if index % 2:
                known.append(_seconds(bad_signature, users))
                unknown.append(_seconds(unknown_user, users))
            else:
                unknown.append(_seconds(unknown_user, users))
                known.append(_seconds(bad_signature, users))
    finally:
        gc.enable()
    z = _welch_z(known, unknown)
    assert abs(z) < 3, f"z={z:.2f}"


def _welch_z(a: list[int], b: list[int]) -> float:
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    var_a = sum((x - mean_a) ** 2 for x in a) / (len(a) - 1)
    var_b = sum((x - mean_b) ** 2 for x in b) / (len(b) - 1)
    return (mean_a - mean_b) / math.sqrt(var_a / len(a) + var_b / len(b))
