"""A few daemon worker threads behind ``concurrent.futures.Future``.

``ThreadPoolExecutor`` joins its threads when the interpreter exits, so a second Ctrl-C
would wait for every call in flight to time out; daemon threads let the process go.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

R = TypeVar("R")

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class WorkerPool:
    def __init__(self, workers: int, name: str = "leadsync-client") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        future: Future[R] = Future()
        self._jobs.put((future, fn, args))
        return future

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
