"""Framing a batch of events in memory: seqs, envelopes, payloads, checksums and the hash chain.

Two steps, so that the costly one can leave the main thread:
  1. `encode_batch(events)`, in the caller's thread: checks every event (an Event with an int ts,
     no secrets in a session) and encodes the whole batch with one msgspec call. A bad event
     raises here, before anything is framed, so it leaves the journal untouched.
  2. `frame(batch, seq, prev, now, size, limit)`: per record the envelope
     `[seq, ts, recorded_at, v, prev, event]` (byte for byte what msgspec writes for a
     `journal.record.Record`, the event's bytes copied verbatim), its CRC32C, its link in the
     BLAKE2b chain and its frame head. In C (`journal/_cframer.c`, built by build_core.py) it runs
     without the GIL; `frame_py` is the reference it must match byte for byte
     (tests/test_journal_framer.py) and the fallback without a build. The C module's `Committer`
     runs the same loop on a thread of its own for the writer's non-durable batches, so a backtest
     frames and writes its journal on a second core.
Nothing here touches the disk: the writer decides what is written, when, and what is fsync'd.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final, Iterator, NamedTuple, Sequence

import msgspec

from journal.codec import encode
from journal.events import SCHEMA_VERSION, Event, SessionStarted
from journal.framing import (
    CHAIN_SEED, FORMAT_VERSION, FRAME, FRAME_SIZE, HEADER_SIZE, LENGTH_MASK, MAGIC, MAX_RECORD_BYTES, crc,
)
from journal.secrets_guard import refuse_secrets

try:  # present when build_core.py built it and journal/native.py found the build current
    from journal import _cframer  # type: ignore[attr-defined]
except ImportError:
    _cframer = None
NATIVE: Final = _cframer is not None
"""Whether `frame` runs in C (and releases the GIL while it runs)."""

EVENT_TYPES: Final = frozenset(Event.__subclasses__())
"""The concrete event classes (all direct subclasses of Event): one set lookup per appended event."""
INT64 = (-(1 << 63), (1 << 63) - 1)
ENVELOPE_BYTES = 1 + 4 * 9 + 2 + 16
"""The most an envelope adds to an event's bytes: fixarray, four ints of at most 9 bytes, bin8 header, prev."""
_RAWS = msgspec.msgpack.Decoder(list[msgspec.Raw])


class EncodedBatch(NamedTuple):
    """Checked events encoded as one msgpack array, with their event times."""

    blob: bytes
    ts: list[int]


class Framed(NamedTuple):
    """A framed batch: the frame bytes, where segments must roll, and the chain's end."""

    frames: bytes
    rolls: list[tuple[int, int, bytes]]  # (end offset in frames, next seq, digest so far) where a segment is full
    digest: bytes  # the digest of the batch's last record


def encode_batch(events: Sequence[Any]) -> EncodedBatch:
    """Check and encode `events`. Raises TypeError / ValueError naming the bad event."""
    if type(events) is not list:
        events = list(events)
    checked = _cframer.event_times(events, EVENT_TYPES, SessionStarted) if NATIVE else None
    if checked is None:
        ts = event_times(events)
    else:
        ts, has_session = checked
        if has_session:
            for event in events:
                if type(event) is SessionStarted:
                    refuse_secrets(event)
    blob = encode(events)
    if len(blob) + ENVELOPE_BYTES > MAX_RECORD_BYTES:  # only then can one record be too large: find it
        for event, raw in zip(events, _RAWS.decode(blob)):
            if len(raw) + ENVELOPE_BYTES > MAX_RECORD_BYTES:
                raise ValueError(f"{type(event).__name__} encodes to {len(raw)} bytes (max {MAX_RECORD_BYTES})")
    return EncodedBatch(blob, ts)


def event_times(events: list[Any]) -> list[int]:
    """The ts of every event, having checked each (the reference of `_cframer.event_times`)."""
    ts: list[int] = []
    for event in events:
        kind = type(event)
        # A set lookup first (the common case); isinstance still admits any other Event subclass.
        if (kind not in EVENT_TYPES and not isinstance(event, Event)) or type(event.ts) is not int:
            raise TypeError(f"not an event with an int ts: {event!r}")
        if kind is SessionStarted:
            refuse_secrets(event)
        ts.append(event.ts)
    if ts and (min(ts) < INT64[0] or max(ts) > INT64[1]):
        raise ValueError(f"an event ts is outside int64: {min(ts)}..{max(ts)}")
    return ts


def frame_py(batch: EncodedBatch, seq: int, prev: bytes, now: int, size: int, limit: int) -> Framed:
    """Frame `batch` from `seq` on, chained to `prev`, stamped `now`. `size` is the current segment's
    size with what is buffered, `limit` the segment size: each frame that reaches the limit ends its
    segment (a roll)."""
    new_hasher = CHAIN_SEED.copy  # a copied empty BLAKE2b state: twice as fast as a new one
    pack = FRAME.pack
    frames = bytearray()
    rolls: list[tuple[int, int, bytes]] = []
    for ts, raw in zip(batch.ts, _RAWS.decode(batch.blob)):
        payload = encode((seq, ts, now, SCHEMA_VERSION, prev, raw))  # = encode(Record(...)), the event verbatim
        n = len(payload)
        hasher = new_hasher()  # = framing.chain(prev, payload), without its call and `prev + payload` copy
        hasher.update(prev)
        hasher.update(payload)
        prev = hasher.digest()
        seq += 1
        frames += pack(n, n ^ LENGTH_MASK, crc(payload))
        frames += payload
        size += FRAME_SIZE + n
        if size >= limit:
            rolls.append((len(frames), seq, prev))
            size = HEADER_SIZE  # the next segment holds what follows this frame
    return Framed(bytes(frames), rolls, prev)


def frame_native(batch: EncodedBatch, seq: int, prev: bytes, now: int, size: int, limit: int) -> Framed:
    """`frame_py` in C, without the GIL."""
    frames, rolls, digest = _cframer.frame(batch.blob, batch.ts, seq, prev, now, SCHEMA_VERSION, size, limit,
                                           HEADER_SIZE, MAX_RECORD_BYTES)
    return Framed(frames, rolls, digest)


frame = frame_native if NATIVE else frame_py


QUEUE_BATCHES = 4
"""Batches waiting for the committer at most (the run loop's are 1,024 events): a core that outruns the disk
waits instead of holding the whole journal in memory."""


def new_committer(directory: Path, segment_bytes: int, sync_bytes: int) -> Any:
    """The C committer thread for a writer of `directory` (only with NATIVE)."""
    return _cframer.Committer(os.fsencode(directory), MAGIC, FORMAT_VERSION, segment_bytes, HEADER_SIZE,
                              MAX_RECORD_BYTES, SCHEMA_VERSION, sync_bytes, QUEUE_BATCHES)


def payloads(frames: bytes) -> Iterator[memoryview]:
    """The payloads of framed records, in order (their heads were written by `frame` just before)."""
    view = memoryview(frames)
    pos = 0
    while pos < len(view):
        n = FRAME.unpack_from(view, pos)[0]
        yield view[pos + FRAME_SIZE:pos + FRAME_SIZE + n]
        pos += FRAME_SIZE + n
