"""Byte layout of segments and records: the only module that knows the on-disk format.

Segment file `<first_seq:020d>.seg` = header + frames.
  header (40 bytes): magic b"DJRNLSEG", u16 format version, u16 reserved, u64 first seq,
                     16-byte digest of the record before this segment, u32 CRC32C of the 36 bytes before it.
  frame: u32 length, u32 ~length (a flipped length bit is caught before the payload is trusted),
         u32 CRC32C of the payload, then the msgpack payload (a `journal.record.Record`).
Hash chain: digest(record) = BLAKE2b-128(digest(previous record) + payload); the first prev is 16 zero bytes.
"""
from __future__ import annotations

import hashlib
import re
import struct
from typing import NamedTuple

import crc32c

MAGIC = b"DJRNLSEG"
FORMAT_VERSION = 1
HEADER = struct.Struct("<8sHHQ16sI")
HEADER_SIZE = HEADER.size  # 40
FRAME = struct.Struct("<III")
FRAME_SIZE = FRAME.size  # 12
LENGTH_MASK = 0xFFFFFFFF
MAX_RECORD_BYTES = 64 * 1024 * 1024
DIGEST_SIZE = 16
GENESIS = bytes(DIGEST_SIZE)
SEGMENT_RE = re.compile(r"^(\d{20})\.seg$")

crc = crc32c.crc32c


class SegmentHeader(NamedTuple):
    format_version: int
    first_seq: int
    prev: bytes


def segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}.seg"


def pack_header(first_seq: int, prev: bytes) -> bytes:
    body = HEADER.pack(MAGIC, FORMAT_VERSION, 0, first_seq, prev, 0)[:-4]
    return body + struct.pack("<I", crc(body))


def unpack_header(raw: bytes) -> SegmentHeader:
    """Parse a header; ValueError says what is wrong (the caller names the file)."""
    if len(raw) < HEADER_SIZE:
        raise ValueError(f"header is {len(raw)} bytes, expected {HEADER_SIZE}")
    magic, version, _reserved, first_seq, prev, check = HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise ValueError("not a journal segment (bad magic)")
    if check != crc(raw[: HEADER_SIZE - 4]):
        raise ValueError("header checksum mismatch")
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported segment format version {version}")
    return SegmentHeader(version, first_seq, prev)


def pack_frame_head(payload: bytes) -> bytes:
    n = len(payload)
    return FRAME.pack(n, n ^ LENGTH_MASK, crc(payload))


def frame(payload: bytes) -> bytes:
    return pack_frame_head(payload) + payload


CHAIN_SEED = hashlib.blake2b(digest_size=DIGEST_SIZE)
"""An empty BLAKE2b-128 state, never updated itself: hot loops take `CHAIN_SEED.copy()`, which is
about twice as fast as constructing a hasher with its parameters each time."""


def chain(prev: bytes, payload: bytes) -> bytes:
    """BLAKE2b-128(prev + payload); feeding the two parts in turn hashes the same bytes without the copy."""
    hasher = CHAIN_SEED.copy()
    hasher.update(prev)
    hasher.update(payload)
    return hasher.digest()
