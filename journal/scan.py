"""Walking the frames of one segment: checksum, seq order and hash chain, in one tight loop.

Every reader (read, follow, verify, stats, writer recovery) goes through `walk`, so
there is exactly one definition of "a whole, valid record". The walk stops at the
first frame that is not whole and valid and says why in `Walk.stop`:
  None        clean end of the buffer
  "incomplete" the bytes end inside a frame (torn tail, or a write in progress)
  "bad_length" the length field fails its complement check
  "bad_crc"   the payload does not match its CRC32C
Decoding or chain errors raise `JournalCorrupt` at once: those are never a tail.
"""
from __future__ import annotations

from typing import Callable, Iterator

from journal.codec import UndecodableRecord
from journal.errors import CheckFailed
from journal.framing import CHAIN_SEED, FRAME, FRAME_SIZE, LENGTH_MASK, crc


class JournalCorrupt(CheckFailed):
    """A record before the tail is damaged: names segment, byte offset and seq."""

    def __init__(self, segment: str, offset: int, seq: int, reason: str) -> None:
        super().__init__(f"{segment}: bad record at byte offset {offset} (seq {seq}): {reason}")
        self.segment, self.offset, self.seq, self.reason = segment, offset, seq, reason


class TornTail(CheckFailed):
    """The last segment ends with bytes that are not a whole record."""

    def __init__(self, segment: str, offset: int, seq: int, cut_bytes: int, stop: str) -> None:
        super().__init__(
            f"{segment}: torn tail at byte offset {offset} (seq {seq}): {cut_bytes} bytes are not a whole "
            f"record ({STOP_REASONS[stop]}); `journal repair` cuts them into quarantine"
        )
        self.segment, self.offset, self.seq, self.cut_bytes, self.stop = segment, offset, seq, cut_bytes, stop


STOP_REASONS = {
    "incomplete": "the bytes end inside a frame",
    "bad_length": "frame length fails its check",
    "bad_crc": "payload checksum mismatch",
}


def could_be_torn(rest: bytes, stop: str) -> bool:
    """Could a crash mid-append have left `rest` (the bytes from the first bad frame to the end of the
    last segment)? A frame cut short, a zero-filled remainder (the file system extended the file but
    the data never landed), or a last frame whose payload is not all there. Anything else is damage."""
    if stop == "incomplete" or rest.count(0) == len(rest):
        return True
    if stop == "bad_crc":
        return FRAME_SIZE + FRAME.unpack_from(rest)[0] == len(rest)  # only the very last frame may be half-written
    return False


class Walk:
    """Mutable walk state; survives across buffers so a follower can resume.

    seq: next expected seq; digest: digest of the last record; ts: event time of the last record."""

    def __init__(self, segment: str, seq: int, digest: bytes, ts: int | None = None) -> None:
        self.segment = segment
        self.seq = seq
        self.digest = digest
        self.ts = ts
        self.pos = 0
        self.stop: str | None = None

    def records(
        self,
        buf: bytes,
        pos: int,
        decode: Callable,
        base: int = 0,
        emit_from: int = 1,
        verify: bool = True,
    ) -> Iterator[object]:
        """Yield decoded records of `buf[pos:]`; `base` is buf's offset in the file (for messages).

        Records below `emit_from` are checked (crc, chain) but not decoded."""
        n = len(buf)
        unpack = FRAME.unpack_from
        new_hasher = CHAIN_SEED.copy  # a copied empty state: twice as fast as blake2b(digest_size=16)
        seq, digest = self.seq, self.digest
        self.stop = None
        while True:
            if n - pos < FRAME_SIZE:
                self._halt(pos, "incomplete" if pos < n else None)
                return
            length, check, checksum = unpack(buf, pos)
            if length ^ check != LENGTH_MASK:
                self._halt(pos, "bad_length")
                return
            end = pos + FRAME_SIZE + length
            if end > n:
                self._halt(pos, "incomplete")
                return
            payload = buf[pos + FRAME_SIZE : end]  # a bytes slice: cheaper to make and to hash than a memoryview
            if verify:
                if crc(payload) != checksum:
                    self._halt(pos, "bad_crc")
                    return
                hasher = new_hasher()  # the chain link: BLAKE2b-128(digest + payload), fed in two parts
                hasher.update(digest)
                hasher.update(payload)
            if seq >= emit_from:
                try:
                    rec = decode(payload)
                except UndecodableRecord as exc:
                    raise JournalCorrupt(self.segment, base + pos, seq, str(exc)) from None
                if rec.seq != seq:
                    raise JournalCorrupt(self.segment, base + pos, seq, f"seq {rec.seq} where {seq} was expected")
                if verify:
                    if rec.prev != digest:
                        raise JournalCorrupt(self.segment, base + pos, seq, "hash chain broken (prev digest mismatch)")
                    digest = hasher.digest()
                seq += 1
                self.seq, self.digest, self.ts, self.pos = seq, digest, rec.ts, end
                yield rec
            else:
                if verify:
                    digest = hasher.digest()
                seq += 1
                self.seq, self.digest = seq, digest
            pos = end

    def _halt(self, pos: int, stop: str | None) -> None:
        """The walk ends at `pos`: cleanly (None) or at a frame that is not whole and valid."""
        self.pos, self.stop = pos, stop
