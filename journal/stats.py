"""Journal statistics, including a content digest that ignores recording wall time.

`content_digest` = BLAKE2b-128 over, per record, (seq, ts, v) packed as three i64 and
the event's stored msgpack bytes. Two runs that record the same events (a backtest
twice) give the same value even though their `recorded_at` differ.
"""
from __future__ import annotations

import hashlib
import os
import struct

from journal.codec import decode_head
from journal.framing import DIGEST_SIZE
from journal.reader import walk_journal
from journal.scan import TornTail
from journal.segments import list_segments

CONTENT_KEY = struct.Struct("<qqq")


def journal_stats(path: str | os.PathLike[str]) -> dict:
    """Records, segments, bytes, first/last seq and ts, last and content digests (verified scan)."""
    segments = list_segments(path)
    content = hashlib.blake2b(digest_size=DIGEST_SIZE)
    update, pack = content.update, CONTENT_KEY.pack
    records = 0
    first = last = None
    last_digest = segments[-1].prev
    tails: list[TornTail] = []
    for _seg, walk, head in walk_journal(path, decode_head, on_tail=tails.append):
        records += 1
        if first is None:
            first = head
        last = head
        last_digest = walk.digest
        update(pack(head.seq, head.ts, head.v))
        update(head.event)
    return {
        "path": str(path),
        "records": records,
        "segments": len(segments),
        "bytes": sum(os.path.getsize(s.path) for s in segments),
        "first_seq": first.seq if first else None,
        "last_seq": last.seq if last else 0,
        "first_ts": first.ts if first else None,
        "last_ts": last.ts if last else None,
        "last_digest": last_digest.hex(),
        "content_digest": content.hexdigest(),
        "tail_bytes": tails[0].cut_bytes if tails else 0,
    }
