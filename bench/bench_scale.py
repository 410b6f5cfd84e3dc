"""syncMultipleLeads over HTTP on PostgreSQL with 1, 2 and 4 workers, beside SQLite with one.

300-lead batches, 10 attributes each, half new and half existing, from 8 concurrent
connections. Any failed call is an error: the figures only count clean runs.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from pathlib import Path

import psycopg
from bench_sync import batches, run_http, seed_indices
from common import server, tmp_sqlite
from psycopg import sql

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _database() -> str:
    name = f"leadsync_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args(argv)
    seed = seed_indices(args.batches, 0)
    plan = batches(args.batches, 0)
    results: dict[str, float] = {}
    print("syncMultipleLeads scaling, 300-lead batches over HTTP")
    with tempfile.TemporaryDirectory() as tmp:
        with server(tmp_sqlite(Path(tmp), "scale.db")) as endpoint:
            run_http(endpoint, seed, args.connections)
            fig = run_http(endpoint, plan, args.connections)
        fig.name = "SQLite, 1 worker"
        print("  " + fig.line())
        results["sqlite_1"] = fig.rate
    for workers in (int(w) for w in args.workers.split(",")):
        name = _database()
        try:
            url = f"postgresql://postgres@127.0.0.1:5432/{name}"
            with server(url, workers=workers) as endpoint:
                run_http(endpoint, seed, args.connections)
                fig = run_http(endpoint, plan, args.connections)
        finally:
            _drop(name)
        fig.name = f"PostgreSQL, {workers} worker{'s' if workers > 1 else ''}"
        print("  " + fig.line())
        results[f"postgres_{workers}"] = fig.rate
    print("  (target: >= 15,000 leads/s with PostgreSQL and 2 workers, no error under load)")
    return results


if __name__ == "__main__":
    main()
