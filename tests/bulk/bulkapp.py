"""In-process bulk API test kit: the ASGI app on a store, and the job runner driven step by
step (``Bulk.run``) instead of its background threads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from leadsync.config import Settings
from leadsync.jobs.files import JobFiles
from leadsync.jobs.runner import JobRunner
from leadsync.jobs.work import job_work
from leadsync.store.base import Store
from rest.restapp import Rest, make_rest

OWNER = "tests|boot|1|1"


@dataclass
class Bulk:
    rest: Rest
    runner: JobRunner
    files: JobFiles

    def run(self) -> int:
        """Run every queued job to its end, as the server's runner would."""
        return self.runner.run_pending()

    def upload(self, data: bytes, *, name: str = "leads.csv", **params: Any) -> httpx.Response:
        params.setdefault("format", "csv")
        return self.rest.post(
            "/bulk/v1/leads.json",
            params=params,
            files={"file": (name, data, "text/csv")},
        )

    def import_ok(self, data: bytes, **params: Any) -> int:
        body = self.rest.ok(self.upload(data, **params))
        batch_id: int = body["result"][0]["batchId"]
        return batch_id

    def status(self, batch_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.rest.ok(
            self.rest.get(f"/bulk/v1/leads/batch/{batch_id}.json")
        )["result"][0]
        return result

    def failures(self, batch_id: int) -> bytes:
        answer = self.rest.get(f"/bulk/v1/leads/batch/{batch_id}/failures.json")
        assert answer.status_code == 200
        return answer.content

    def warnings(self, batch_id: int) -> bytes:
        answer = self.rest.get(f"/bulk/v1/leads/batch/{batch_id}/warnings.json")
        assert answer.status_code == 200
        return answer.content


def bulk_on(store: Store, folder: Path, settings: Settings | None = None) -> Iterator[Bulk]:
    settings = settings or Settings(bulk_dir=str(folder))
    for rest in make_rest(store, settings):
        files = JobFiles(folder)
        runner = JobRunner(store, files, job_work(settings), clock=rest.clock, owner=OWNER)
        yield Bulk(rest, runner, files)
