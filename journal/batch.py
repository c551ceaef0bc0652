"""Framing a batch of events in memory: seqs, envelopes, payloads, checksums and the hash chain.

The writer's per-event loop, apart from the writer so that it is a pure function of its inputs
(no file, no clock) and can run compiled (build_core.py). Nothing here touches the disk: the
writer decides what is written, when, and what is fsync'd.
"""
from __future__ import annotations

from typing import Any, Callable, Final, Sequence

from journal.codec import encode
from journal.events import SCHEMA_VERSION, Event, SessionStarted
from journal.framing import CHAIN_SEED, FRAME, FRAME_SIZE, HEADER_SIZE, LENGTH_MASK, MAX_RECORD_BYTES, crc
from journal.record import Record
from journal.secrets_guard import refuse_secrets

EVENT_TYPES: Final = frozenset(Event.__subclasses__())
"""The concrete event classes (all direct subclasses of Event): one set lookup per appended event."""
_SessionStarted: Final = SessionStarted
_Record: Final = Record


class Framed:
    """A framed batch: its records, the frame bytes, where segments must roll, and the chain's end."""

    def __init__(self, records: list[Record], frames: bytearray, rolls: list[tuple[int, int, bytes]], seq: int,
                 digest: bytes) -> None:
        self.records = records
        self.frames = frames
        self.rolls = rolls  # (end offset in frames, next seq, digest so far) where a segment is full
        self.seq = seq  # the next seq after the batch
        self.digest = digest  # the digest of the batch's last record


def frame_batch(events: Sequence[Any], seq: int, prev: bytes, now: int, check: Callable[[bytes], Any] | None,
                size: int, limit: int) -> Framed:
    """Frame `events` from `seq` on, chained to `prev`, stamped `now`. `check(payload)` (durable
    appends) proves each payload decodes before it may become durable. `size` is the current
    segment's size with what is buffered, `limit` the segment size: each frame that reaches the
    limit ends its segment (a roll). Raises TypeError / ValueError, having framed nothing useful:
    a bad event leaves the journal untouched."""
    new_hasher = CHAIN_SEED.copy  # a copied empty BLAKE2b state: twice as fast as a new one
    pack = FRAME.pack
    records: list[Record] = []
    frames = bytearray()
    rolls: list[tuple[int, int, bytes]] = []
    for event in events:
        kind = type(event)
        # A set lookup first (the common case); isinstance still admits any other Event subclass.
        if (kind not in EVENT_TYPES and not isinstance(event, Event)) or type(event.ts) is not int:
            raise TypeError(f"not an event with an int ts: {event!r}")
        if kind is _SessionStarted:
            refuse_secrets(event)
        rec = _Record(seq, event.ts, now, SCHEMA_VERSION, prev, event)
        payload: bytes = encode(rec)
        n = len(payload)
        if n > MAX_RECORD_BYTES:
            raise ValueError(f"{kind.__name__} encodes to {n} bytes (max {MAX_RECORD_BYTES})")
        if check is not None:
            check(payload)  # never make durable what the reader could not decode
        hasher = new_hasher()  # = framing.chain(prev, payload), without its call and `prev + payload` copy
        hasher.update(prev)
        hasher.update(payload)
        prev = hasher.digest()
        seq += 1
        records.append(rec)
        frames += pack(n, n ^ LENGTH_MASK, crc(payload))
        frames += payload
        size += FRAME_SIZE + n
        if size >= limit:
            rolls.append((len(frames), seq, prev))
            size = HEADER_SIZE  # the next segment holds what follows this frame
    return Framed(records, frames, rolls, seq, prev)
