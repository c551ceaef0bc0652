"""Journal statistics, including a content digest that ignores recording wall time.

`content_digest` = BLAKE2b-128 over, per record, (seq, ts, v) packed as three i64 and
the event's stored msgpack bytes. Two runs that record the same events (a backtest
twice) give the same value even though their `recorded_at` differ. A session's `code_digest` (which
sources recorded it) is left out too: the same events recorded by edited code keep the digest.
"""
from __future__ import annotations

import hashlib
import os
import struct

import msgspec

from journal.codec import decode_head
from journal.framing import DIGEST_SIZE
from journal.reader import walk_journal
from journal.scan import TornTail
from journal.segments import list_segments

CONTENT_KEY = struct.Struct("<qqq")
_SESSION_TAG = b"\xa4kind\xafsession_started"  # msgpack "kind": "session_started", right after the map header
_MAP_HEADER = {0xDE: 3, 0xDF: 5}  # map 16 / map 32; a fixmap (< 16 fields) header is 1 byte


def _is_session(event: memoryview) -> bool:
    """Whether the record's event is a session_started, from its first bytes (one byte decides most)."""
    start = _MAP_HEADER.get(event[0], 1)
    return event[start + 6] == 0x73 and event[start:start + 21] == _SESSION_TAG  # "s": session_/signal_...


def _content_of(event: msgspec.Raw) -> msgspec.Raw | bytes:
    """The event's bytes as content. A session's `code_digest` (which sources recorded it) is not content:
    it is dropped by key and the rest re-encoded, byte for byte what a session without it encodes to."""
    if not _is_session(memoryview(event)):
        return event
    fields = msgspec.msgpack.decode(event)
    if not isinstance(fields, dict) or fields.pop("code_digest", None) is None:
        return event
    return msgspec.msgpack.encode(fields)


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
        update(_content_of(head.event))
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
