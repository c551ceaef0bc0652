"""Segments roll at the size limit, chain across files, and any seq can start a read."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from conftest_journal import make_journal, run_cli, sample_events, segment_files
from journal.errors import CheckFailed
from journal.framing import FRAME, GENESIS, HEADER_SIZE, chain, unpack_header
from journal.reader import read_events, read_record_batches, read_records
from journal.scan import JournalCorrupt
from journal.writer import JournalWriter


@pytest.fixture(scope="module")
def journal(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seg") / "journal"
    make_journal(path, 400, segment_bytes=8_000, batch=5)
    return path


def test_segments_roll_at_the_size_limit_and_link_up(journal: Path) -> None:
    segments = segment_files(journal)
    assert len(segments) > 5
    records = list(read_records(journal))
    by_seq = {r.seq: r for r in records}
    for seg in segments:
        header = unpack_header(seg.read_bytes()[:HEADER_SIZE])
        assert seg.name == f"{header.first_seq:020d}.seg"
        assert header.prev == (GENESIS if header.first_seq == 1 else by_seq[header.first_seq].prev)
        assert seg.stat().st_size < 8_000 + 1_000  # rolled at the first record past the limit


@pytest.mark.parametrize("start", [1, 2, 57, 133, 399, 400, 401, 1000])
def test_reading_can_start_at_any_seq(journal: Path, start: int) -> None:
    seqs = [r.seq for r in read_records(journal, from_seq=start)]
    assert seqs == list(range(start, 401))
    assert list(read_events(journal, from_seq=start)) == sample_events(400)[start - 1 :]


def test_batched_reading_yields_the_same_records_across_segments(journal: Path) -> None:
    batches = list(read_record_batches(journal, size=16, from_seq=3))
    assert len(batches) > 1 and all(1 <= len(b) <= 16 for b in batches)
    assert [r for b in batches for r in b] == list(read_records(journal, from_seq=3))


def test_reopening_continues_the_chain_and_the_seq(journal: Path, tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(journal, work)
    with JournalWriter.open(work, segment_bytes=8_000) as writer:
        assert writer.last_seq == 400
        recs = writer.append(sample_events(3), durable=True)
        assert [r.seq for r in recs] == [401, 402, 403]
    assert run_cli("verify", work)[0] == 0


def test_a_removed_middle_segment_is_reported(journal: Path, tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(journal, work)
    victim = segment_files(work)[2]
    following = segment_files(work)[3]
    victim.unlink()
    rc, _, err = run_cli("verify", work)
    assert rc == 1 and f"{following.name}: bad record at byte offset 0 (seq {int(following.name[:20])})" in err


def test_swapped_records_break_the_chain(journal: Path, tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(journal, work)
    seg = segment_files(work)[1]
    data = seg.read_bytes()
    a = HEADER_SIZE
    b = a + FRAME.size + FRAME.unpack_from(data, a)[0]
    c = b + FRAME.size + FRAME.unpack_from(data, b)[0]
    seg.write_bytes(data[:a] + data[b:c] + data[a:b] + data[c:])
    first = int(seg.name[:20])
    with pytest.raises(JournalCorrupt) as info:
        list(read_records(work))
    assert (info.value.segment, info.value.offset, info.value.seq) == (seg.name, a, first)
    assert "seq" in info.value.reason


def test_a_removed_record_breaks_the_chain(journal: Path, tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(journal, work)
    seg = segment_files(work)[0]
    data = seg.read_bytes()
    a = HEADER_SIZE
    b = a + FRAME.size + FRAME.unpack_from(data, a)[0]
    seg.write_bytes(data[:a] + data[b:])
    with pytest.raises(CheckFailed, match=r"byte offset 40 \(seq 1\)"):
        list(read_records(work))


def test_a_torn_tail_ends_a_read_quietly_but_fails_verify(journal: Path, tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(journal, work)
    last = segment_files(work)[-1]
    with open(last, "r+b") as f:
        f.truncate(last.stat().st_size - 7)
    assert [r.seq for r in read_records(work)][-1] == 399
    rc, _, err = run_cli("verify", work)
    assert rc == 1 and f"{last.name}: torn tail at byte offset" in err and "(seq 400)" in err


def test_one_large_batch_rolls_segments_mid_batch(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with JournalWriter.open(path, segment_bytes=8_000) as writer:
        writer.append(sample_events(400), durable=True)
    assert len(segment_files(path)) > 5
    assert [r.event for r in read_records(path)] == sample_events(400)
    assert run_cli("verify", path)[0] == 0


def test_a_batch_with_a_bad_event_leaves_the_journal_untouched(tmp_path: Path) -> None:
    from journal.events import CandleClosed

    path = tmp_path / "j"
    with JournalWriter.open(path, segment_bytes=8_000) as writer:
        writer.append(sample_events(10), durable=True)
        bad = CandleClosed(ts=1, symbol="X", timeframe="1h", open="not a float", high=1.0, low=1.0, close=1.0,
                           volume=1.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="candle_closed"):
            writer.append(sample_events(300)[10:] + [bad], durable=True)
        assert writer.last_seq == 10
        writer.append(sample_events(11)[10:], durable=True)
    assert [r.seq for r in read_records(path)] == list(range(1, 12))
    assert len(segment_files(path)) == 1


def test_every_prev_is_blake2b_128_of_the_previous_frame_as_the_format_says(journal: Path) -> None:
    """Checked from the raw bytes with a plain hashlib call, independent of the writer's and
    reader's shared fast path (a copied empty hasher fed prev, then payload)."""
    payloads = []
    for seg in segment_files(journal):
        data, pos = seg.read_bytes(), HEADER_SIZE
        while pos < len(data):
            length = FRAME.unpack_from(data, pos)[0]
            payloads.append(data[pos + FRAME.size : pos + FRAME.size + length])
            pos += FRAME.size + length
    records = list(read_records(journal))
    assert len(payloads) == len(records) == 400
    digest = GENESIS
    for payload, rec in zip(payloads, records):
        assert rec.prev == digest
        digest = hashlib.blake2b(digest + payload, digest_size=16).digest()
        assert chain(rec.prev, payload) == digest
