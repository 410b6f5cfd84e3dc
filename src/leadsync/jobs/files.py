"""Where a job's files live: one folder per job under the bulk folder (``bulk_dir``).

Every worker and host reads and writes the same folder (docs/deployment.md, "Bulk job
files"); an upload is written whole under ``uploads/`` before its job exists, so a runner
never sees half a file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from leadsync.config import Settings
from leadsync.store import DEFAULT_DATABASE_URL


def bulk_root(settings: Settings) -> Path:
    """``bulk_dir``, or beside the SQLite file, or ``./leadsync-jobs``."""
    if settings.bulk_dir:
        return Path(settings.bulk_dir)
    url = settings.database_url or DEFAULT_DATABASE_URL
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        return path.with_name(path.name + ".jobs")
    return Path("leadsync-jobs")


class JobFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, job_id: int) -> Path:
        return self.root / str(job_id)

    def output(self, job_id: int, name: str) -> Path:
        """A file a job writes (``failures``, ``warnings``, ``export``), its folder made."""
        folder = self.folder(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def save_upload(self, data: bytes) -> str:
        """Write an uploaded file durably; its name relative to the root."""
        uploads = self.root / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        name = f"uploads/{uuid.uuid4().hex}"
        partial = self.root / (name + ".part")
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.rename(self.root / name)
        return name

    def path(self, name: str) -> Path:
        return self.root / name

    def remove(self, job_id: int, upload: str | None = None) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)
        if upload:
            (self.root / upload).unlink(missing_ok=True)
