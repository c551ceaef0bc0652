"""The C framer writes exactly the bytes of the Python reference, and the background committer
keeps the writer's promises: order, a continuous chain, errors raised to the caller, nothing lost."""
from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import crc32c
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest_journal import fixed_clock, sample_events
from journal import batch as framer
from journal.codec import encode
from journal.events import SCHEMA_VERSION, CandleClosed, JournalRecovered, SessionStarted
from journal.framing import GENESIS, MAX_RECORD_BYTES
from journal.reader import read_records
from journal.record import Record
from journal.verify import verify_journal
from journal.writer import JournalWriter
from test_journal_codec import ANY_EVENT

ROOT = Path(__file__).resolve().parents[1]
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


FAILING_WRITE = r"""
import resource, signal, sys
from conftest_journal import fixed_clock, sample_events
from journal.writer import JournalWriter
events = sample_events(400)
writer = JournalWriter.open(sys.argv[1], wall_clock=fixed_clock(), segment_bytes=int(sys.argv[2]))
writer.append(events[:100], durable=True)
if sys.argv[3] == "file-size":  # a write past the limit fails with EFBIG, as one on a full disk fails
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = max(p.stat().st_size for p in writer.directory.glob("*.seg"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 3000, resource.RLIM_INFINITY))
else:  # no file descriptor left: the next segment cannot be created
    import os
    files = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) - 1, files[1]))
durable = sys.argv[4] == "durable"
calls = (lambda: writer.append(events[100:200], durable=durable), writer.flush,
         lambda: writer.append(events[200:300], durable=durable), writer.close)
for call in calls:
    try:
        call()
        print("no error")
    except OSError as exc:
        print("OSError", exc)
        # the disk has room again: the writer must still refuse (it cannot tell what reached the disk)
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        if sys.argv[3] != "file-size":
            resource.setrlimit(resource.RLIMIT_NOFILE, files)
print("closed", writer.closed)
"""


@pytest.mark.parametrize("durable", ["durable", "batched"])
@pytest.mark.parametrize(("segment_bytes", "limit", "error"), [
    (64 << 20, "file-size", f"[Errno {errno.EFBIG}] File too large"),
    (2000, "file-descriptors", f"[Errno {errno.EMFILE}] Too many open files"),
], ids=["full-file", "no-fd-to-roll"])
def test_a_failed_write_reaches_the_caller_and_the_journal_stays_whole(tmp_path, segment_bytes, limit, error, durable):
    """A write that fails part way (by the caller's thread, or by the committer thread for batched appends)
    is raised, and by every call after it: the writer cannot tell what reached the disk, and writing it
    again would put records in twice. What was durable stays whole; reopening cuts the torn tail."""
    run = subprocess.run([sys.executable, "-c", FAILING_WRITE, str(tmp_path / "j"), str(segment_bytes), limit, durable],
                         capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"})
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line != "no error")
    assert first <= (0 if durable == "durable" else 1), lines  # a batched append may only queue the batch
    assert lines[first].startswith(f"OSError {error}"), lines
    assert lines[first:4] == [lines[first]] * (4 - first) and lines[4] == "closed True", lines
    events = sample_events(400)
    with JournalWriter.open(tmp_path / "j", wall_clock=fixed_clock()) as again:  # a torn tail is cut off
        kept = again.last_seq - (again.recovered is not None)
        assert kept >= 100
        again.append(events[kept:], durable=False)
    records = list(read_records(tmp_path / "j", verify=True))
    assert [r.event for r in records if type(r.event) is not JournalRecovered] == events


@native
def test_the_committer_refuses_work_after_stop_and_in_a_forked_child(tmp_path):
    batch = framer.encode_batch(sample_events(3))
    with JournalWriter.open(tmp_path / "j") as writer:
        committer = framer.new_committer(writer.directory, 1 << 20, 1 << 20)
        committer.attach(os.dup(writer._fd), writer._seg_size, writer.last_digest)
        pid = os.fork()
        if pid == 0:  # the child has no committer thread: every call says so instead of waiting forever
            try:
                committer.drain()
            except RuntimeError as exc:
                os._exit(0 if "parent process" in str(exc) else 1)
            os._exit(2)
        assert os.waitpid(pid, 0)[1] == 0
        committer.stop()
        with pytest.raises(ValueError, match="committer is stopped"):
            committer.submit(batch.blob, batch.ts, 1, 0)
        os.close(committer.drain()[0])
    with pytest.raises(RuntimeError, match="never started"):
        framer._cframer.Committer.__new__(framer._cframer.Committer).drain()


@native
def test_the_c_framer_refuses_seqs_beyond_int64():
    batch = framer.encode_batch(sample_events(3))
    with pytest.raises(OverflowError, match="seqs beyond int64"):
        framer.frame_native(batch, 2**63 - 3, GENESIS, 0, 0, 1 << 30)
    assert framer.frame_native(batch, 2**63 - 4, GENESIS, 0, 0, 1 << 30) == framer.frame_py(batch, 2**63 - 4, GENESIS,
                                                                                           0, 0, 1 << 30)


BAD_ITEMS = st.sampled_from([
    "not an event", None,
    CandleClosed(ts=1.5, symbol="BTC/USDT", timeframe="1h", open=1.0, high=1.0, low=1.0, close=1.0, volume=0.0),  # type: ignore[arg-type]
    CandleClosed(ts=True, symbol="BTC/USDT", timeframe="1h", open=1.0, high=1.0, low=1.0, close=1.0, volume=0.0),  # type: ignore[arg-type]
    CandleClosed(ts=2**63, symbol="BTC/USDT", timeframe="1h", open=1.0, high=1.0, low=1.0, close=1.0, volume=0.0),
])


@native
@given(events=st.lists(ANY_EVENT, max_size=10), bad=st.none() | st.tuples(st.integers(0, 10), BAD_ITEMS))
def test_the_c_batch_check_agrees_with_the_python_one(events, bad):
    """`_cframer.event_times` takes the common case; anything else goes to the Python loop, which raises."""
    if bad is not None:
        events.insert(min(bad[0], len(events)), bad[1])
    try:
        expected = framer.event_times(events)
    except (TypeError, ValueError) as exc:
        assert framer._cframer.event_times(events, framer.EVENT_TYPES, SessionStarted) is None
        with pytest.raises(type(exc)):
            framer.encode_batch(events)
    else:
        checked = framer._cframer.event_times(events, framer.EVENT_TYPES, SessionStarted)
        assert checked == (expected, any(type(e) is SessionStarted for e in events))


def test_a_session_with_secret_settings_is_refused_in_any_batch(tmp_path):
    session = SessionStarted(ts=1, run_id="r", mode="backtest", version="t", config_digest="d",
                             settings={"exchange": {"api_secret": "s3cr3t"}})
    with JournalWriter.open(tmp_path / "j", wall_clock=fixed_clock()) as writer:
        for durable in (False, True):
            with pytest.raises(ValueError, match="secret-looking settings"):
                writer.append([*sample_events(5), session], durable=durable)
    assert list(read_records(tmp_path / "j")) == []


@native
def test_a_batch_that_cannot_be_framed_leaves_the_batches_before_it_written(tmp_path):
    """The committer buffers small batches; one that fails must not take the good ones before it along."""
    events = sample_events(63)
    good = [framer.encode_batch(events[i:i + 3]) for i in range(0, 60, 3)]
    bad = framer.encode_batch(events[60:63])
    path = tmp_path / "frames"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    committer = framer.new_committer(tmp_path, 1 << 30, 1 << 30)
    committer.attach(fd, 0, GENESIS)
    for i, batch in enumerate(good):
        committer.submit(batch.blob, batch.ts, 1 + 3 * i, 7)
    committer.submit(bad.blob[:-5], bad.ts, 61, 7)  # cut short: "the encoded events end early"
    with pytest.raises(ValueError, match="event 2 of the batch from seq 61: the encoded events end early"):
        committer.drain()
    committer.stop()
    os.close(fd)
    expected, prev = b"", GENESIS
    for i, batch in enumerate(good):
        framed = framer.frame_py(batch, 1 + 3 * i, prev, 7, 0, 1 << 30)
        expected, prev = expected + framed.frames, framed.digest
    assert path.read_bytes() == expected


@native
@pytest.mark.parametrize("segment_bytes", [300, 2000, 65536])
def test_the_committer_writes_the_journal_the_python_writer_writes(tmp_path, monkeypatch, segment_bytes):
    """Segment rolls and headers are written twice (journal/writer.py, and in C by the committer thread):
    the same appends must give the same files, byte for byte."""
    events = sample_events(1500)

    def write(path):
        with JournalWriter.open(path, wall_clock=fixed_clock(), segment_bytes=segment_bytes) as writer:
            for start in range(0, 1500, 37):
                writer.append(events[start:start + 37], durable=start % 370 == 0)

    write(tmp_path / "committer")
    monkeypatch.setattr("journal.writer.NATIVE", False)  # batched appends framed and rolled by the Python writer
    write(tmp_path / "python")
    names = sorted(p.name for p in (tmp_path / "python").glob("*.seg"))
    assert len(names) > 3 and sorted(p.name for p in (tmp_path / "committer").glob("*.seg")) == names
    for name in names:
        assert (tmp_path / "committer" / name).read_bytes() == (tmp_path / "python" / name).read_bytes(), name
