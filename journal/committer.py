"""A writer's background committer: frames and writes non-durable batches, in order, on one thread.

The C framer releases the GIL, so while the committer frames, writes and fdatasyncs one batch
the caller's thread runs the decision core on the next: a backtest uses both cores. The queue is
bounded, so a core that outruns the disk waits instead of holding the whole journal in memory.
A failure (a full disk) is kept and raised to the caller by its next append, flush or close:
from then on the writer takes nothing more (the journal on disk ends at the last whole record).
"""
from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any, Callable

QUEUE_BATCHES = 4
"""Batches waiting at most (each is one run-loop batch of up to 4,096 encoded events)."""


class Committer:
    def __init__(self, commit: Callable[[Any], None], directory: Path) -> None:
        self._commit = commit
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"journal-committer {directory}", daemon=True)
        self._started = False

    def submit(self, job: Any) -> None:
        """Queue a job (waits while the queue is full). Raises the failure of an earlier job."""
        self._raise_failure()
        if not self._started:  # most writers never commit in the background: start on first use
            self._thread.start()
            self._started = True
        self._jobs.put(job)

    def drain(self) -> None:
        """Return when every submitted job is done; raises the first failure."""
        if self._started:
            self._jobs.join()
        self._raise_failure()

    def stop(self) -> None:
        """End the thread (after the jobs before it). The writer closes its file only after this."""
        if self._started and self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:  # after a failure the chain cannot go on: later jobs are dropped
                    self._commit(job)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
                self._error = exc
            finally:
                self._jobs.task_done()
