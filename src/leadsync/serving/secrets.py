"""Handing secret settings to worker processes without putting them in their environment.

A process's environment is readable by anyone who may read ``/proc/PID/environ`` (the same
user, root, crash reporters, ``ps e``), and every child inherits it. ``serve --workers``
therefore writes the secret settings (the admin and metrics tokens, and the database URL,
which may hold a password) to a file only its user can read, in a folder of its own, and
gives the workers the file's path; the folder is removed when ``serve`` stops.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

from leadsync.config import SETTINGS, Settings, as_environment

#: The variable that names the secrets file in a worker's environment.
SECRETS_FILE_ENV = "LEADSYNC_SECRETS_FILE"


def secret_variables() -> frozenset[str]:
    """The ``LEADSYNC_*`` variables whose values are secret."""
    return frozenset(s.env for s in SETTINGS if s.secret or s.name == "database_url")


@contextmanager
def workers_environment(settings: Settings, environ: MutableMapping[str, str]) -> Iterator[None]:
    """``environ`` set up for worker processes: every setting but the secret ones as
    variables, the secret ones in a private file it names; both undone on exit."""
    secret = secret_variables()
    values = as_environment(settings)
    folder = tempfile.mkdtemp(prefix="leadsync-secrets-")  # mode 0700
    path = os.path.join(folder, "settings.json")
    saved = {name: environ.get(name) for name in (*values, SECRETS_FILE_ENV)}
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as fh:
            json.dump({k: v for k, v in values.items() if k in secret}, fh)
        for name, value in values.items():
            if name in secret:
                environ.pop(name, None)
            else:
                environ[name] = value
        environ[SECRETS_FILE_ENV] = path
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                environ.pop(name, None)
            else:
                environ[name] = old
        shutil.rmtree(folder, ignore_errors=True)


def with_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the variables of the secrets file it names, if any."""
    merged = dict(environ)
    path = environ.get(SECRETS_FILE_ENV)
    if path:
        with open(path, encoding="utf-8") as fh:
            merged.update(json.load(fh))
    return merged
