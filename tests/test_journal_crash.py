"""Torn tails are recovered to exactly the whole-record prefix; damage before the tail is refused."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest_journal import make_journal, run_cli, segment_files
from journal.events import JournalRecovered
from journal.framing import FRAME
from journal.reader import read_records
from journal.scan import JournalCorrupt
from journal.writer import JournalWriter

RECORDS = 300
LAST_RECORDS = 3


def frame_offsets(segment: Path) -> list[int]:
    """Start offset of every frame, plus the end of the file."""
    data = segment.read_bytes()
    pos, offsets = 40, []
    while pos < len(data):
        offsets.append(pos)
        pos += FRAME.size + FRAME.unpack_from(data, pos)[0]
    return offsets + [pos]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "journal"
    make_journal(path, RECORDS, segment_bytes=20_000, batch=7)
    return path


def test_cut_at_every_byte_of_the_last_records_recovers_the_whole_prefix(pristine: Path, tmp_path: Path) -> None:
    segments = segment_files(pristine)
    assert len(segments) > 1, "the journal should span segments"
    last = segments[-1]
    offsets = frame_offsets(last)
    first_seq_of_last = int(last.name[:20])
    original = list(read_records(pristine))
    size = offsets[-1]
    cut_start = offsets[-1 - LAST_RECORDS]
    work = tmp_path / "j"
    for cut in range(cut_start, size):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work)
        os.truncate(work / last.name, cut)
        whole = sum(1 for o in offsets[1:] if o <= cut)  # frames ending at or before the cut
        expected_last_seq = first_seq_of_last + whole - 1

        with JournalWriter.open(work) as writer:
            rec = writer.recovered
            assert writer.last_seq == expected_last_seq + (rec is not None)
        if cut in offsets:
            assert rec is None, f"cut {cut} is on a record boundary"
        else:
            assert isinstance(rec, JournalRecovered)
            assert (rec.segment, rec.offset, rec.last_good_seq) == (last.name, max(o for o in offsets if o <= cut), expected_last_seq)
            quarantined = (work / rec.quarantine_file).read_bytes()
            assert quarantined == (pristine / last.name).read_bytes()[rec.offset : cut]
            assert rec.cut_bytes == len(quarantined)
        got = list(read_records(work))
        assert got[:expected_last_seq] == original[:expected_last_seq]
        assert len(got) == expected_last_seq + (rec is not None)
        assert run_cli("verify", work)[0] == 0


def test_zero_filled_tail_is_cut_like_a_torn_write(pristine: Path, tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(pristine, work)
    last = segment_files(work)[-1]
    with open(last, "ab") as f:
        f.write(bytes(4096))
    rc, _, err = run_cli("verify", work)
    assert rc == 1 and "torn tail" in err
    rc, out, _ = run_cli("repair", work)
    assert rc == 0 and "cut 4096 bytes" in out
    assert run_cli("verify", work)[0] == 0
    assert run_cli("repair", work)[1].startswith("nothing to repair")


def test_damage_before_the_tail_is_refused_naming_segment_offset_and_seq(pristine: Path, tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(pristine, work)
    first = segment_files(work)[0]
    offsets = frame_offsets(first)
    target = offsets[5] + FRAME.size + 3  # inside the payload of seq 6
    data = bytearray(first.read_bytes())
    data[target] ^= 0x10
    first.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt) as info:
        JournalWriter.open(work)
    assert (info.value.segment, info.value.offset, info.value.seq) == (first.name, offsets[5], 6)
    rc, _, err = run_cli("repair", work)
    assert rc == 1 and f"{first.name}: bad record at byte offset {offsets[5]} (seq 6)" in err
    assert data == bytearray(first.read_bytes()), "repair must not touch damage before the tail"
