"""Finding where the next record goes, and cutting a torn tail into quarantine.

A torn tail is what a crash mid-append leaves at the end of the last segment: a
frame cut short, a zero-filled remainder, or a last frame whose payload never fully
reached the disk. It is moved byte for byte into `<segment>.<offset>.quarantine`
and the segment is truncated. Any other damage is refused, naming where it is.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from journal.codec import decode_head
from journal.framing import GENESIS
from journal.reader import walk_journal
from journal.scan import STOP_REASONS, JournalCorrupt, TornTail, could_be_torn
from journal.segments import Segment, list_segments


class Tip(NamedTuple):
    """Where the journal ends: the next seq, the last digest and event time, and any torn tail."""

    segment: Segment | None
    next_seq: int
    digest: bytes
    last_ts: int | None
    torn: TornTail | None


def find_tip(directory: Path) -> Tip:
    """Verify the whole journal (framing, CRC, seq, chain) and locate its end."""
    segments = list_segments(directory, allow_empty=True)
    if not segments:
        return Tip(None, 1, GENESIS, None, None)
    last = segments[-1]
    seq, digest, last_ts = last.first_seq, last.prev, None
    torn = None
    try:
        for _seg, walk, _head in walk_journal(directory, decode_head, strict_tail=True):
            seq, digest, last_ts = walk.seq, walk.digest, walk.ts
    except TornTail as tail:
        if not _is_torn_tail(last.path, tail):
            raise JournalCorrupt(tail.segment, tail.offset, tail.seq, STOP_REASONS[tail.stop]) from None
        torn = tail
    return Tip(last, seq, digest, last_ts, torn)


def _is_torn_tail(path: Path, tail: TornTail) -> bool:
    """Could a crash mid-append have left these bytes? (else it is damage, never cut silently)"""
    if tail.stop == "incomplete":
        return True
    with open(path, "rb") as f:
        f.seek(tail.offset)
        return could_be_torn(f.read(), tail.stop)


def quarantine_tail(directory: Path, tail: TornTail) -> str:
    """Copy the torn bytes next to the segments, durably, then truncate the segment."""
    seg_path = directory / tail.segment
    name = f"{tail.segment}.{tail.offset}.quarantine"
    n = 1
    while (directory / name).exists():  # a second crash at the same offset keeps the first cut too
        n += 1
        name = f"{tail.segment}.{tail.offset}.{n}.quarantine"
    with open(seg_path, "rb") as f:
        f.seek(tail.offset)
        cut = f.read()
    with open(directory / name, "wb") as q:
        q.write(cut)
        q.flush()
        os.fsync(q.fileno())
    fd = os.open(seg_path, os.O_WRONLY)
    try:
        os.ftruncate(fd, tail.offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(directory)
    return name


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
