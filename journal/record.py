"""The envelope stored for every event: sequence, times, schema version and chain link.

Encoded as a msgpack array `[seq, ts, recorded_at, v, prev, event]` (compact and fast);
the event itself is the tagged map of `journal.events`.
"""
from __future__ import annotations

import msgspec

from journal.events import AnyEvent


class Record(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One journal entry. `ts` is the event time (= event.ts); `recorded_at` is wall time,
    metadata only; `v` the schema version the event was written with (reads always return
    the current schema, upcast if needed); `prev` the digest of the previous record."""

    seq: int
    ts: int
    recorded_at: int
    v: int
    prev: bytes
    event: AnyEvent


class RecordHead(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A record whose event is left undecoded: for scans that need only framing and the chain."""

    seq: int
    ts: int
    recorded_at: int
    v: int
    prev: bytes
    event: msgspec.Raw
