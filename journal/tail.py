"""The last N records of a journal, and their one-line human and JSON forms."""
from __future__ import annotations

import datetime as dt
import os
from typing import Iterator

import msgspec

from journal.codec import decode_head
from journal.framing import HEADER_SIZE
from journal.reader import read_records
from journal.record import Record
from journal.scan import Walk
from journal.segments import list_segments

_json = msgspec.json.Encoder()


def last_seq(path: str | os.PathLike[str]) -> int:
    """Seq of the last whole record, counting frames of the last non-empty segment only."""
    for seg in reversed(list_segments(path)):
        with open(seg.path, "rb") as f:
            buf = f.read()
        walk = Walk(seg.name, seg.first_seq, seg.prev)
        for _ in walk.records(buf, HEADER_SIZE, decode_head, emit_from=1 << 62, verify=False):
            pass
        if walk.seq > seg.first_seq:
            return walk.seq - 1
    return 0


def tail_records(path: str | os.PathLike[str], n: int) -> Iterator[Record]:
    start = max(1, last_seq(path) - n + 1)
    return read_records(path, from_seq=start)


def record_json(rec: Record) -> bytes:
    """One flat JSON object: envelope fields, then the event's own (kind, ts, ...)."""
    body = msgspec.to_builtins(rec.event)
    return _json.encode({"seq": rec.seq, "recorded_at": rec.recorded_at, "v": rec.v, **body})


def record_line(rec: Record) -> str:
    when = dt.datetime.fromtimestamp(rec.ts / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    body = msgspec.to_builtins(rec.event)
    kind = body.pop("kind")
    body.pop("ts", None)
    fields = " ".join(f"{k}={v}" for k, v in body.items())
    return f"{rec.seq:>9}  {when}  {kind:<22} {fields}"
