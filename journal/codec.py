"""Payload encoding: one reusable msgpack encoder, typed decoders, and the upcast slow path."""
from __future__ import annotations

import msgspec

from journal.events import SCHEMA_VERSION
from journal.record import Record, RecordHead
from journal.upcast import upcast_event

_encoder = msgspec.msgpack.Encoder()
_record_decoder = msgspec.msgpack.Decoder(Record)
_head_decoder = msgspec.msgpack.Decoder(RecordHead)

encode = _encoder.encode
decode_head = _head_decoder.decode


class UndecodableRecord(ValueError):
    """The payload passed its checksum but is not a record this code can read."""


def decode_record(payload: bytes | memoryview) -> Record:
    """Fast path: the current schema straight into the typed union; else upcast."""
    try:
        rec = _record_decoder.decode(payload)
    except msgspec.ValidationError:
        return _decode_old(payload)
    except msgspec.DecodeError as exc:
        raise UndecodableRecord(f"malformed payload ({exc})") from None
    if rec.v != SCHEMA_VERSION:
        return _decode_old(payload)
    return rec


def _decode_old(payload: bytes | memoryview) -> Record:
    try:
        raw = msgspec.msgpack.decode(payload)
    except msgspec.DecodeError as exc:
        raise UndecodableRecord(f"malformed payload ({exc})") from None
    if not (isinstance(raw, list) and len(raw) == 6 and isinstance(raw[3], int) and isinstance(raw[5], dict)):
        raise UndecodableRecord("payload is not a record envelope")
    seq, ts, recorded_at, v, prev, event = raw
    try:
        event = upcast_event(v, event)
        return msgspec.convert([seq, ts, recorded_at, v, prev, event], Record)
    except (ValueError, msgspec.ValidationError) as exc:
        raise UndecodableRecord(f"schema v{v} event {event.get('kind')!r}: {exc}") from None


def cut_record_kind(raw: bytes) -> str | None:
    """The event kind of a partial record (a torn tail's quarantined bytes), when the cut left it readable:
    a record's event is a map whose first key is "kind" (msgpack fixstr or str8). None when it did not."""
    i = raw.find(b"\xa4kind")
    j = i + 5
    if i < 0 or j >= len(raw):
        return None
    if 0xA0 <= raw[j] <= 0xBF:
        n, start = raw[j] - 0xA0, j + 1
    elif raw[j] == 0xD9 and j + 1 < len(raw):
        n, start = raw[j + 1], j + 2
    else:
        return None
    if start + n > len(raw):
        return None
    try:
        return raw[start:start + n].decode()
    except UnicodeDecodeError:
        return None
