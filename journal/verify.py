"""Full verification: every frame, checksum, seq, link and event decodes into today's schema.

A partial last record fails verification unless a writer holds the lock right now
(then it is a write in progress and is left out of the count).
"""
from __future__ import annotations

import os
from pathlib import Path

from journal.codec import decode_record
from journal.events import SCHEMA_VERSION
from journal.lock import writer_active
from journal.reader import walk_journal
from journal.scan import TornTail
from journal.segments import list_segments


def verify_journal(path: str | os.PathLike[str]) -> dict:
    """Summary of a journal that verifies; raises JournalCorrupt / TornTail (exit 1) otherwise."""
    segments = list_segments(path)
    live = writer_active(Path(path))
    records, last_seq, last_digest, upcast = 0, 0, segments[-1].prev, 0
    tails: list[TornTail] = []
    for _seg, walk, rec in walk_journal(path, decode_record, strict_tail=not live, on_tail=tails.append):
        records += 1
        last_seq, last_digest = rec.seq, walk.digest
        if rec.v < SCHEMA_VERSION:
            upcast += 1
    return {
        "path": str(path),
        "records": records,
        "segments": len(segments),
        "last_seq": last_seq,
        "last_digest": last_digest.hex(),
        "upcast_records": upcast,
        "writer_active": live,
        "in_progress_bytes": tails[0].cut_bytes if tails else 0,
    }
