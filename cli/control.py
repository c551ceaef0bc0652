"""The control channel: operator requests (CLI, MCP) handed to the running bot.

Requests are input events written as msgspec JSON files into
`<journal>/control/pending/`. The live loop drains them each poll, journals each
one as an input event and acts on it, so every operator action is on the record.
Writes are atomic (tmp + fsync + rename + directory fsync): the loop never sees a
half-written request. Files are named `<time_ns>-<pid>-<kind>.json` so name order
is submission order. A file that does not decode is moved to `control/rejected/`
(never crashes the loop).
"""
from __future__ import annotations

import fcntl
import os
import struct
import time
from pathlib import Path

from typing import Union

import msgspec

from journal.errors import BadInput
from journal.lock import LOCK_NAME
from journal.events import (
    DailyAnchorResetRequested,
    Event,
    FlattenRequested,
    HaltRequested,
    ManualCloseRequested,
    ProtectOnlyRequested,
    ResumeRequested,
    kind_of,
)

REQUEST_TYPES: tuple[type[Event], ...] = (
    ManualCloseRequested,
    HaltRequested,
    ResumeRequested,
    ProtectOnlyRequested,
    DailyAnchorResetRequested,
    FlattenRequested,
)
ControlRequest = Union[REQUEST_TYPES]  # type: ignore[valid-type]  # one list: the tuple above

_decoder = msgspec.json.Decoder(ControlRequest)


def control_dir(journal_dir: Path | str, box: str) -> Path:
    return Path(journal_dir) / "control" / box


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def submit_request(journal_dir: Path | str, event: Event) -> Path:
    """Write one request atomically into control/pending/; returns the final path."""
    if not isinstance(event, REQUEST_TYPES):
        raise BadInput(f"control: {type(event).__name__} is not a control request")
    pending = control_dir(journal_dir, "pending")
    pending.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{kind_of(event)}.json"
    final = pending / name
    tmp = pending / f".{name}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(msgspec.json.encode(event))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(pending)
    return final


def pending_requests(journal_dir: Path | str) -> list[tuple[Path, Event]]:
    """Decoded pending requests in name order, without moving them (two-step drain).

    Undecodable files are moved to control/rejected/ so they are not retried forever."""
    pending = control_dir(journal_dir, "pending")
    if not pending.is_dir():
        return []
    out: list[tuple[Path, Event]] = []
    for path in sorted(p for p in pending.iterdir() if p.suffix == ".json" and not p.name.startswith(".")):
        try:
            out.append((path, _decoder.decode(path.read_bytes())))
        except (msgspec.DecodeError, OSError):
            _move(path, "rejected")
    return out


def mark_done(path: Path) -> Path:
    """Move a handled request to control/done/ (call after it is journaled)."""
    return _move(path, "done")


def _move(path: Path, box: str) -> Path:
    target_dir = path.parent.parent / box
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    os.replace(path, target)
    return target


def drain_requests(journal_dir: Path | str) -> list[Event]:
    """Read every pending request in name order and move each to control/done/."""
    events = []
    for path, event in pending_requests(journal_dir):
        mark_done(path)
        events.append(event)
    return events


def _posix_lock_holder(fd: int) -> int | None:
    """pid of a POSIX (fcntl/lockf) lock on the whole file, via F_GETLK."""
    query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
    l_type, _, _, _, l_pid = struct.unpack("hhqqi", answer)
    return l_pid if l_type != fcntl.F_UNLCK else None


def _flock_held(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False


def _pid_in(path: Path) -> int | None:
    text = path.read_text(errors="replace").strip().split()
    return int(text[0]) if text and text[0].isdigit() else None


def bot_is_running(journal_dir: Path | str) -> int | None:
    """pid of the process holding the journal writer lock (journal.lock's flock), else None.

    -1 when the lock is held but the holder has not written its pid yet."""
    path = Path(journal_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        holder = _posix_lock_holder(fd)
        if holder:
            return holder
        if _flock_held(fd):
            return _pid_in(path) or -1
    finally:
        os.close(fd)
    return None
