"""One writer per journal directory: an exclusive, non-blocking flock on `writer.lock`.

The holder writes its pid into the file so a refused writer can say who holds it.
The kernel drops the lock when the holder dies (even on SIGKILL), so there is no stale lock.
"""
from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from journal.errors import BadInput

LOCK_NAME = "writer.lock"


class JournalLocked(BadInput):
    """Another process is writing this journal."""


class WriterLock:
    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, directory: Path, attempts: int = 5) -> "WriterLock":
        path = directory / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        for attempt in range(attempts):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == attempts - 1:
                    holder = _holder_pid(fd)
                    os.close(fd)
                    raise JournalLocked(f"{directory}: journal is locked by another writer (pid {holder})") from None
                time.sleep(0.01)  # a reader's probe holds a shared lock for microseconds
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None


def _holder_pid(fd: int) -> str:
    for _ in range(20):  # the holder writes its pid right after locking
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text:
            return text
        time.sleep(0.005)
    return "unknown"


def writer_active(directory: Path) -> bool:
    """True when some process holds the writer lock (probed with a momentary shared lock)."""
    path = directory / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
