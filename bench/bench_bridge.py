"""Bridge mode: SOAP syncMultipleLeads through the bridge to a local REST upstream, next to
the same batches sent to that upstream's REST API directly, in the same run.

1. Throughput and added latency: 300-lead batches of 10 fields, half new and half existing
   leads, over the same number of connections; the bridge's budget is off. The added
   latency is the bridge's p50/p99 minus direct REST's (target: the bridge adds under 20%).
2. Pacing: the upstream's own limits on, at Marketo's call rate scaled down in window
   (50 calls per 10 s is Marketo's 100 per 20 s; 10 at once), and the bridge's budget set to
   the same. The ceiling is 5 calls/s x 300 leads = 1,500 leads/s, as against real Marketo;
   the bridge should reach at least 95% of it without the upstream refusing a call. The
   pace is read from the spacing of calls a window apart (``steady_pace``): calls over wall
   time would count the first burst.

The floor under the added latency is printed too: what no SOAP front end of a REST upstream
can skip, measured alone, as a share of a direct REST call: parsing the SOAP request, and a
second HTTP round trip with the Sync Leads body (answered by the upstream without work).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from bench_rest import CLIENT_ID, CLIENT_SECRET, rest_sync, sync_body, token
from bench_sync import BATCH, batches, run_http, seed_indices
from common import Figures, cli, server, sync_envelope, tmp_sqlite

from leadsync.mktows.xml import parse

PACED_RATE = "50/10s"
PACED_CONCURRENCY = 10
CEILING = 50 / 10 * BATCH


def _bridge_flags(base: str) -> list[str]:
    return [
        *("--upstream", base, "--upstream-client-id", CLIENT_ID),
        *("--upstream-client-secret", CLIENT_SECRET, "--threads", "16"),
    ]


def _fresh(start: int, calls: int) -> list[list[int]]:
    """``calls`` batches of new leads."""
    return [list(range(start + c * BATCH, start + (c + 1) * BATCH)) for c in range(calls)]


def _pct(figures: Figures, q: float) -> float:
    lat = sorted(figures.latencies)
    if q == 0.5:
        return statistics.median(lat) * 1000
    return lat[min(len(lat) - 1, int(len(lat) * q))] * 1000


def _upstream_db(folder: Path, name: str) -> str:
    url = tmp_sqlite(folder, name)
    cli(
        "services", "add", "bench", "--client-id", CLIENT_ID,
        "--client-secret", CLIENT_SECRET, "--database", url,
    )  # fmt: skip
    return url


def throughput(
    folder: Path, count: int, connections: int
) -> tuple[list[tuple[Figures, Figures]], float]:
    """(direct REST, through the bridge) over ``connections`` connections, then over one
    (each call alone: the latency the bridge adds, without calls queueing for the CPU); and
    the seconds of a bare second hop (``bare_hop``)."""
    with server(_upstream_db(folder, "upstream.db"), "--threads", "4") as upstream:
        base = upstream.split("/soap/", 1)[0]
        bearer = token(base)
        os.environ.update(
            LEADSYNC_UPSTREAM_RATE_LIMIT="off",
            LEADSYNC_UPSTREAM_CONCURRENCY="0",
            LEADSYNC_UPSTREAM_DAILY_QUOTA="0",
        )
        bridge_db = tmp_sqlite(folder, "bridge.db")
        with server(bridge_db, *_bridge_flags(base)) as endpoint:
            figures = []
            for n, (lanes, calls) in enumerate(((connections, count), (1, max(count // 4, 10)))):
                direct_at, bridge_at = 100_000_000 * (2 * n + 1), 100_000_000 * (2 * n + 2)
                rest_sync(base, seed_indices(calls, direct_at), lanes, bearer)
                direct = rest_sync(base, batches(calls, direct_at), lanes, bearer)
                run_http(endpoint, seed_indices(calls, bridge_at), lanes)
                figures.append((direct, run_http(endpoint, batches(calls, bridge_at), lanes)))
        hop = bare_hop(base, batches(1, 0)[0])
    return figures, hop


def bare_hop(base: str, indices: list[int], rounds: int = 200) -> float:
    """Seconds (median of ``rounds``) of one more HTTP round trip with a batch's Sync Leads
    body, which the upstream answers without doing anything (a refused token, 601): the
    second hop every bridged call makes, without its work."""
    body = sync_body(indices)
    headers = {"Authorization": "Bearer not-a-token", "Content-Type": "application/json"}
    times = []
    with httpx.Client(timeout=30) as client:
        for _ in range(rounds):
            start = time.perf_counter()
            answer = client.post(f"{base}/rest/v1/leads.json", content=body, headers=headers)
            times.append(time.perf_counter() - start)
            if b'"601"' not in answer.content:
                raise RuntimeError(f"expected a refused token, got {answer.text[:200]}")
    return statistics.median(times)


def paced(folder: Path, calls: int, connections: int) -> tuple[Figures, dict[str, object]]:
    flags = ("--rest-rate", PACED_RATE, "--rest-concurrency", str(PACED_CONCURRENCY))
    with server(_upstream_db(folder, "paced-upstream.db"), "--threads", "4", *flags) as upstream:
        base = upstream.split("/soap/", 1)[0]
        os.environ.update(
            LEADSYNC_UPSTREAM_RATE_LIMIT=PACED_RATE,
            LEADSYNC_UPSTREAM_CONCURRENCY=str(PACED_CONCURRENCY),
            LEADSYNC_UPSTREAM_DAILY_QUOTA="0",
            LEADSYNC_UPSTREAM_WAIT_SECONDS="120",
        )
        bridge_db = tmp_sqlite(folder, "paced-bridge.db")
        with server(bridge_db, *_bridge_flags(base)) as endpoint:
            # A first window's worth of calls before the clock starts: the budget's window is
            # then full, and what is measured is the steady pace, not the first burst.
            warm = int(PACED_RATE.split("/")[0])
            run_http(endpoint, _fresh(30_000_000, warm), connections)
            figures = run_http(endpoint, _fresh(40_000_000, calls), connections)
        stats = httpx.get(
            f"{base}/rest/v1/stats/errors.json",
            headers={"Authorization": f"Bearer {token(base)}"},
            timeout=30,
        ).json()
    return figures, stats


def steady_pace(figures: Figures) -> float:
    """Leads/s at the pace the budget allows, without the edges of the run: the median time
    between a call's end and the end of the call a window's worth of calls before it.

    Under a sliding window calls go in bursts (a window's worth, then a wait for the oldest to
    leave the window), so calls over wall time depends on where the run ends in a burst
    (60 calls take one window, not 1.2): the spacing of calls one window apart does not."""
    calls = int(PACED_RATE.split("/")[0])
    ends = sorted(figures.ends)
    gaps = [ends[j] - ends[j - calls] for j in range(calls, len(ends))]
    if not gaps:
        raise SystemExit(f"--paced-calls must be over {calls} to measure the pace")
    return calls * BATCH / statistics.median(gaps)


def parse_floor(indices: list[int], rounds: int = 200) -> float:
    """Seconds to parse one of the benchmark's SOAP requests with the hardened parser, and
    nothing else (the best of ``rounds``): a cost no SOAP front end can skip."""
    body = sync_envelope(indices)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        parse(body)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--paced-calls", type=int, default=150)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ((direct, bridged), (alone, bridged_alone)), hop = throughput(
            folder, args.batches, args.connections
        )
        pacing, errors = paced(folder, args.paced_calls, 12)
    print("Sync, 300-lead batches, 10 fields, half new (SQLite upstream, 1 process each)")
    print("  " + direct.line().replace("REST sync", "direct REST"))
    print("  " + bridged.line().replace("HTTP,", "SOAP through the bridge,"))
    print(f"  bridge / direct REST: {bridged.rate / direct.rate:.0%} of the throughput")
    print("  " + alone.line().replace("REST sync", "direct REST"))
    print("  " + bridged_alone.line().replace("HTTP,", "SOAP through the bridge,"))
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        added = _pct(bridged_alone, q) - _pct(alone, q)
        share = added / _pct(alone, q)
        print(
            f"  added latency {label}, one call at a time: {added:+.1f} ms ({share:+.0%})"
            "   (target: < +20%)"
        )
    parsing = parse_floor(batches(1, 0)[0]) * 1000
    direct_p50 = _pct(alone, 0.5)
    floor = parsing + hop * 1000
    print(
        f"  floor: parsing the SOAP request alone (lxml, best of 200) {parsing:.2f} ms"
        f" + a bare second hop (p50 of 200) {hop * 1000:.2f} ms = {floor:.2f} ms,"
        f" {floor / direct_p50:+.0%} on a direct REST call"
    )
    print(
        f"Pacing: upstream limits {PACED_RATE}, {PACED_CONCURRENCY} at once;"
        f" ceiling {CEILING:,.0f} leads/s"
    )
    print("  " + pacing.line().replace("HTTP,", "SOAP through the bridge,"))
    pace = steady_pace(pacing)
    print(
        f"  steady pace {pace:,.0f} leads/s, {pace / CEILING:.1%} of the ceiling   (target: >= 95%)"
    )
    refused = [
        e
        for day in errors.get("result", [])
        for e in day.get("errors", [])  # type: ignore[union-attr]
    ]
    print(f"  upstream refusals: {refused or 'none'}")
    return {
        "bridge_leads_per_s": bridged.rate,
        "direct_rest_leads_per_s": direct.rate,
        "paced_share_of_ceiling": pace / CEILING,
        "bridge_added_p50_share": _pct(bridged_alone, 0.5) / _pct(alone, 0.5) - 1,
        "floor_share_of_direct_p50": floor / direct_p50,
    }


if __name__ == "__main__":
    main()
