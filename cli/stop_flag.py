"""A stop request by signal, honoured between bars, never in the middle of a journal write.

A KeyboardInterrupt can land anywhere, inside the writer's buffered write too, and a batch
re-appended after it would duplicate records. With this handler a SIGINT/SIGTERM only sets the
flag; the loop reads it between bars and stops cleanly.
"""
from __future__ import annotations

import signal
import threading


class StopFlag:
    """Set by SIGINT/SIGTERM; the loop checks it between bars."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, _frame: object) -> None:
        self.signal = signum

    def is_set(self) -> bool:
        return self.signal is not None

    def install(self) -> None:
        self._previous = {signum: signal.signal(signum, self) for signum in (signal.SIGINT, signal.SIGTERM)}

    def __enter__(self) -> "StopFlag":
        """Installed for a block only (where a signal handler can be set: the main thread), then the
        previous handlers are back: a command run in-process leaves its caller's Ctrl-C as it was."""
        if threading.current_thread() is threading.main_thread():
            self.install()
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in getattr(self, "_previous", {}).items():
            signal.signal(signum, handler)
