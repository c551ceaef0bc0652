"""The single writer of a journal directory: framing, hash chain, group commit, segment roll.

`append(events, durable=True)` returns only after fdatasync (one per call: a whole
decision batch commits with one fsync). `durable=False` is for backtests: the batch is
checked and encoded at once (a bad event raises from `append` and leaves the journal
untouched), then framed, written and fdatasync'd in order by the C framer's committer
thread, which never takes the GIL, while the caller goes on (journal/_cframer.c; without
the build, right away on the caller's thread). Everything appended is on disk when
flush()/close() return; a durable append first waits for the batches before it. A failed
background write (a full disk) is raised by the next call, and the writer then takes
nothing more. Opening takes the directory's lock and recovers a torn tail (see
journal.recovery) before anything is appended.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from journal.batch import NATIVE, EncodedBatch, encode_batch, frame, new_committer, payloads
from journal.codec import decode_record
from journal.events import Event, JournalRecovered
from journal.framing import pack_header, segment_name
from journal.lock import WriterLock
from journal.record import Record
from journal.recovery import find_tip, fsync_dir, quarantine_tail
from journal.segments import check_journal_dir

DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
BUFFER_BYTES = 1024 * 1024
SYNC_BYTES = 256 * 1024
"""The committer thread fdatasyncs after each this much: the closing fsync waits only for the last part."""


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


_sync = getattr(os, "fdatasync", os.fsync)


class JournalWriter:
    def __init__(self, directory: Path, lock: WriterLock, wall_clock: Callable[[], int], segment_bytes: int) -> None:
        self.directory = directory
        self._lock = lock
        self._clock = wall_clock
        self._segment_bytes = segment_bytes
        self._buf = bytearray()
        self._fd = -1
        self._seg_size = 0
        self._seq = 1
        self._digest = b""
        self.recovered: JournalRecovered | None = None
        self.closed = False
        self._committer: Any = None  # the C committer thread, started by the first non-durable append
        self._attached = False  # the committer holds the tip (fd, segment size, digest) until _drain()
        self._failure: BaseException | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        wall_clock: Callable[[], int] | None = None,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> "JournalWriter":
        directory = Path(path)
        if directory.exists():
            check_journal_dir(directory)
        else:
            directory.mkdir(parents=True)
        lock = WriterLock.acquire(directory)
        writer = cls(directory, lock, wall_clock or _wall_ms, segment_bytes)
        try:
            writer._recover_and_position()
        except BaseException:
            writer._close_fd()
            lock.release()
            raise
        return writer

    def _recover_and_position(self) -> None:
        for stale in self.directory.glob("*.seg.tmp"):
            stale.unlink()  # a roll that crashed before its rename: never part of the journal
        tip = find_tip(self.directory)
        self._seq, self._digest = tip.next_seq, tip.digest
        if tip.segment is None:
            self._create_segment(1, tip.digest)
        else:
            if tip.torn is not None:
                quarantine = quarantine_tail(self.directory, tip.torn)
                ts = tip.last_ts if tip.last_ts is not None else self._clock()
                self.recovered = JournalRecovered(
                    ts=ts,
                    segment=tip.torn.segment,
                    offset=tip.torn.offset,
                    cut_bytes=tip.torn.cut_bytes,
                    quarantine_file=quarantine,
                    last_good_seq=tip.next_seq - 1,
                )
            self._fd = os.open(tip.segment.path, os.O_WRONLY | os.O_APPEND)
            self._seg_size = os.fstat(self._fd).st_size
        if self.recovered is not None:
            self.append([self.recovered], durable=True)

    def _create_segment(self, first_seq: int, prev: bytes) -> None:
        """Header written to a temp file and renamed: a segment never exists half-made."""
        final = self.directory / segment_name(first_seq)
        tmp = final.with_name(final.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            header = pack_header(first_seq, prev)
            os.write(fd, header)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, final)
        fsync_dir(self.directory)
        self._close_fd()
        self._fd = os.open(final, os.O_WRONLY | os.O_APPEND)
        self._seg_size = len(header)

    # ------------------------------------------------------------------ appending

    def append(self, events: Sequence[Event], durable: bool = True) -> list[Record]:
        """Assign seqs, frame and chain; with durable=True return only after fdatasync, with the
        records as the reader will decode them. durable=False returns [] at once (see the module doc).

        Every event is checked and encoded first, so a bad event leaves the journal untouched."""
        if self.closed:
            raise ValueError(f"{self.directory}: journal writer is closed")
        if self._failure is not None:
            raise self._failure
        batch = encode_batch(events)
        now = self._clock()
        seq = self._seq
        if not durable:
            with self._disk():
                if NATIVE:
                    self._submit(batch, seq, now)
                else:
                    self._commit(batch, seq, now)
            self._seq += len(batch.ts)
            return []
        self._drain()  # the chain continues from every batch before this one
        framed = frame(batch, seq, self._digest, now, self._seg_size + len(self._buf), self._segment_bytes)
        records = [decode_record(payload) for payload in payloads(framed.frames)]  # never durable what the
        self._seq += len(batch.ts)                                                  # reader could not decode
        with self._disk():
            self._place(framed.frames, framed.rolls, framed.digest)
            self.flush()
        return records

    @contextlib.contextmanager
    def _disk(self) -> Iterator[None]:
        """Around writes: one that fails part way (a short write, a segment half rolled, a failed fdatasync)
        leaves bytes the writer can no longer account for, so from then on it takes nothing more (retrying
        would write them twice). Reopening cuts the torn tail and goes on from the last whole record."""
        try:
            yield
        except BaseException as exc:
            self._failure = exc
            raise

    def _submit(self, batch: EncodedBatch, seq: int, now: int) -> None:
        """Hand a batch to the committer thread, first handing it the tip if this process held it."""
        if not self._attached:
            self._write_buffer()  # what was buffered here goes first
            if self._committer is None:
                self._committer = new_committer(self.directory, self._segment_bytes, SYNC_BYTES)
            self._committer.attach(self._fd, self._seg_size, self._digest)
            self._attached = True
        self._committer.submit(batch.blob, batch.ts, seq, now)

    def _commit(self, batch: EncodedBatch, seq: int, now: int) -> None:
        """Frame a batch after the last one and buffer it (without the C committer)."""
        framed = frame(batch, seq, self._digest, now, self._seg_size + len(self._buf), self._segment_bytes)
        self._place(framed.frames, framed.rolls, framed.digest)
        if len(self._buf) >= BUFFER_BYTES:
            self._write_buffer()

    def _place(self, frames: bytes, rolls: list[tuple[int, int, bytes]], digest: bytes) -> None:
        if rolls:
            self._commit_rolling(frames, rolls)
        else:
            self._buf += frames
        self._digest = digest

    def _drain(self) -> None:
        """Wait until the committer has written every batch and take the tip back; raises what it failed with
        (and from then on the writer takes nothing more: seqs were given to batches that never reached the disk)."""
        if not self._attached:
            return
        self._attached = False
        try:
            self._fd, self._seg_size, self._digest = self._committer.drain()
        except BaseException as exc:
            self._fd = self._committer.fd()  # it may have rolled to a new segment: close what it holds
            self._failure = exc
            raise

    def _commit_rolling(self, frames: bytes, rolls: list[tuple[int, int, bytes]]) -> None:
        """Move framed records into the buffer, rolling to a new segment where the size limit was reached."""
        start = 0
        for end, next_seq, digest in rolls:
            self._buf += memoryview(frames)[start:end]
            self._write_buffer()
            _sync(self._fd)  # the old segment is complete before the next one exists
            self._create_segment(next_seq, digest)
            start = end
        self._buf += memoryview(frames)[start:]

    def _write_buffer(self) -> None:
        if not self._buf:
            return
        view = memoryview(self._buf)
        written = 0
        while written < len(view):
            written += os.write(self._fd, view[written:])
        view.release()
        self._seg_size += written
        self._buf.clear()

    def flush(self) -> None:
        """Everything appended so far is on disk when this returns."""
        if self._failure is not None:
            raise self._failure
        with self._disk():
            self._drain()
            self._write_buffer()
            _sync(self._fd)

    # ------------------------------------------------------------------ state and closing

    @property
    def last_seq(self) -> int:
        return self._seq - 1

    @property
    def last_digest(self) -> bytes:
        self._drain()
        return self._digest

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.flush()
        finally:
            self.closed = True
            if self._committer is not None:
                self._committer.stop()
                if self._attached:  # a failure left the tip with the thread, which may have rolled: close its fd
                    self._fd, self._attached = self._committer.fd(), False
            self._close_fd()
            self._lock.release()

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "JournalWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

