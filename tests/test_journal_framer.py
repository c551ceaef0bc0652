"""The C framer writes exactly the bytes of the Python reference, and the background committer
keeps the writer's promises: order, a continuous chain, errors raised to the caller, nothing lost."""
from __future__ import annotations

import errno
import hashlib
import os

import crc32c
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest_journal import fixed_clock, sample_events
from journal import batch as framer
from journal.codec import encode
from journal.events import SCHEMA_VERSION, CandleClosed
from journal.framing import GENESIS, MAX_RECORD_BYTES
from journal.reader import read_records
from journal.record import Record
from journal.verify import verify_journal
from journal.writer import JournalWriter
from test_journal_codec import ANY_EVENT

native = pytest.mark.skipif(not framer.NATIVE, reason="the C framer is not built here (python build_core.py)")
INT64 = st.integers(-(2**63), 2**63 - 1)


@native
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(ANY_EVENT, max_size=20), seq=INT64, now=INT64, prev=st.sampled_from([GENESIS, b"\x07" * 16]),
       size=st.integers(0, 4000), limit=st.integers(1, 4000))
def test_the_c_framer_writes_the_bytes_of_the_python_one(events, seq, now, prev, size, limit):
    if events and seq + len(events) > 2**63 - 1:
        seq -= len(events)
    batch = framer.encode_batch(events)
    assert framer.frame_native(batch, seq, prev, now, size, limit) == framer.frame_py(batch, seq, prev, now, size,
                                                                                     limit)


@given(events=st.lists(ANY_EVENT, min_size=1, max_size=8), seq=st.integers(1, 2**62), now=INT64)
def test_a_payload_is_the_encoded_record(events, seq, now):
    """The envelope contract both framers keep: a payload is msgspec's encoding of the Record."""
    framed = framer.frame(framer.encode_batch(events), seq, GENESIS, now, 0, MAX_RECORD_BYTES)
    prev = GENESIS
    for i, (event, payload) in enumerate(zip(events, framer.payloads(framed.frames), strict=True)):
        assert bytes(payload) == encode(Record(seq + i, event.ts, now, SCHEMA_VERSION, prev, event))
        prev = hashlib.blake2b(prev + bytes(payload), digest_size=16).digest()
    assert framed.digest == prev


@native
@given(data=st.binary(max_size=700))
def test_the_c_hash_and_checksum_are_blake2b_128_and_crc32c(data):
    assert framer._cframer.blake2b_128(data) == hashlib.blake2b(data, digest_size=16).digest()
    assert framer._cframer.crc32c(data) == crc32c.crc32c(data)


@native
def test_the_c_framer_refuses_a_malformed_batch():
    batch = framer.encode_batch(sample_events(3))
    with pytest.raises(ValueError, match="3 encoded events for 2 timestamps"):
        framer.frame_native(batch._replace(ts=batch.ts[:2]), 1, GENESIS, 0, 0, 1 << 30)
    with pytest.raises(ValueError, match="event 2 of the batch: the encoded events end early"):
        framer.frame_native(batch._replace(blob=batch.blob[:-3]), 1, GENESIS, 0, 0, 1 << 30)
    with pytest.raises(ValueError, match="not a msgpack array"):
        framer.frame_native(batch._replace(blob=b"\xc1"), 1, GENESIS, 0, 0, 1 << 30)


def test_a_bad_event_in_a_batch_raises_from_append_and_leaves_the_journal_untouched(tmp_path):
    events = sample_events(50)
    with JournalWriter.open(tmp_path / "j", wall_clock=fixed_clock()) as writer:
        writer.append(events[:20], durable=False)
        with pytest.raises(TypeError, match="not an event with an int ts"):
            writer.append([*events[20:30], CandleClosed(ts=1.5, symbol="BTC/USDT", timeframe="1h", open=1.0,  # type: ignore[arg-type]
                                                        high=1.0, low=1.0, close=1.0, volume=0.0)], durable=False)
        with pytest.raises(ValueError, match="outside int64"):
            writer.append([msgspec.structs.replace(events[20], ts=2**63)], durable=False)
        writer.append(events[20:], durable=False)
    assert [r.event for r in read_records(tmp_path / "j", verify=True)] == events


def test_background_batches_and_durable_appends_chain_in_order(tmp_path):
    """Non-durable batches are framed off the caller's thread; a durable append waits for them."""
    events = sample_events(3000)
    with JournalWriter.open(tmp_path / "j", wall_clock=fixed_clock(), segment_bytes=64 * 1024) as writer:
        for start in range(0, 3000, 250):
            durable = start % 1000 == 750
            records = writer.append(events[start:start + 250], durable=durable)
            assert [r.seq for r in records] == (list(range(start + 1, start + 251)) if durable else [])
        assert writer.last_seq == 3000
        last_digest = writer.last_digest
    records = list(read_records(tmp_path / "j", verify=True))
    assert [r.event for r in records] == events and [r.seq for r in records] == list(range(1, 3001))
    assert verify_journal(tmp_path / "j")["last_digest"] == last_digest.hex()
    assert len(list((tmp_path / "j").glob("*.seg"))) > 5  # segments rolled in the background too


@native
def test_a_failed_background_write_reaches_the_caller_and_the_journal_stays_whole(tmp_path, monkeypatch):
    events = sample_events(400)
    writer = JournalWriter.open(tmp_path / "j", wall_clock=fixed_clock())
    writer.append(events[:100], durable=True)
    real_write = os.write
    monkeypatch.setattr("journal.writer.BUFFER_BYTES", 1)  # every batch goes to the disk at once

    def full_disk(fd, data):
        if fd == writer._fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    writer.append(events[100:200], durable=False)
    with pytest.raises(OSError, match="No space left"):
        writer.flush()
    with pytest.raises(OSError, match="No space left"):  # and every later call: the chain cannot go on
        writer.append(events[200:300], durable=False)
    with pytest.raises(OSError, match="No space left"):
        writer.close()
    monkeypatch.setattr(os, "write", real_write)
    assert writer.closed
    records = list(read_records(tmp_path / "j", verify=True))  # what was durable is there, whole
    assert [r.event for r in records] == events[:100]
    with JournalWriter.open(tmp_path / "j", wall_clock=fixed_clock()) as again:  # and the journal goes on
        again.append(events[100:], durable=False)
    assert [r.event for r in read_records(tmp_path / "j", verify=True)] == events
