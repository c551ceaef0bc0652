"""A single flipped bit anywhere in a segment is caught: verify names segment, offset and seq."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest_journal import make_journal, run_cli, segment_files
from journal.errors import BadInput, CheckFailed
from journal.framing import FRAME, HEADER_SIZE, MAGIC
from journal.verify import verify_journal


def frames(segment: Path) -> list[tuple[int, int]]:
    """(start, end) of every frame."""
    data = segment.read_bytes()
    pos, out = HEADER_SIZE, []
    while pos < len(data):
        end = pos + FRAME.size + FRAME.unpack_from(data, pos)[0]
        out.append((pos, end))
        pos = end
    return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "journal"
    make_journal(path, 24, segment_bytes=1_500, batch=3)
    return path


def verify_fn(work: Path) -> tuple[int, str]:
    """What `journal verify` runs, without the ~5 ms of CLI start-up (for the exhaustive sweep)."""
    try:
        verify_journal(work)
    except CheckFailed as exc:
        return 1, f"{exc}\n"
    except BadInput as exc:
        return 2, f"{exc}\n"
    return 0, ""


def flip_and_verify(pristine: Path, work: Path, seg_index: int, offset: int, bit: int, verify=None) -> tuple[int, str]:
    """Flip one bit of a copy of the journal in `work`, run `journal verify`, flip it back."""
    if not work.exists():
        shutil.copytree(pristine, work)
    seg = segment_files(work)[seg_index]
    with open(seg, "r+b") as f:
        f.seek(offset)
        original = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([original ^ (1 << bit)]))
    try:
        rc, err = verify(work) if verify else run_cli("verify", work)[::2]
    finally:
        with open(seg, "r+b") as f:
            f.seek(offset)
            f.write(bytes([original]))
    return rc, err


def expected_report(pristine: Path, seg_index: int, offset: int) -> tuple[str, int, int]:
    seg = segment_files(pristine)[seg_index]
    first_seq = int(seg.name[:20])
    for i, (start, end) in enumerate(frames(seg)):
        if start <= offset < end:
            return seg.name, start, first_seq + i
    raise AssertionError(offset)


def check_flip(pristine: Path, work: Path, seg_index: int, offset: int, bit: int, verify=None) -> None:
    rc, err = flip_and_verify(pristine, work, seg_index, offset, bit, verify)
    name, start, seq = expected_report(pristine, seg_index, offset)
    assert rc == 1, (offset, bit, err)
    assert len(err.strip().splitlines()) == 1
    match = re.search(r"(\S+\.seg): (bad record|torn tail) at byte offset (\d+) \(seq (\d+)\)", err)
    assert match, err
    assert (match.group(1), int(match.group(3)), int(match.group(4))) == (name, start, seq), err
    # Only the last frame of the last segment may be a torn tail (what a crash mid-append leaves); damage with
    # records after it is a bad record, which `journal repair` refuses to cut (the message must not suggest it).
    segments = segment_files(pristine)
    last_frame = seg_index == len(segments) - 1 and start == frames(segments[-1])[-1][0]
    assert match.group(2) == "bad record" or last_frame, err


def test_flipping_one_bit_in_every_record_byte_fails_verify_at_that_record(pristine: Path, tmp_path: Path) -> None:
    segments = segment_files(pristine)
    assert len(segments) >= 3
    for seg_index, seg in enumerate(segments):
        for offset in range(HEADER_SIZE, seg.stat().st_size):
            check_flip(pristine, tmp_path / "j", seg_index, offset, offset % 8, verify_fn)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_journal_verify_exits_1_for_any_bit_of_any_record_byte(pristine: Path, tmp_path_factory, data) -> None:
    segments = segment_files(pristine)
    seg_index = data.draw(st.integers(0, len(segments) - 1))
    offset = data.draw(st.integers(HEADER_SIZE, segments[seg_index].stat().st_size - 1))
    bit = data.draw(st.integers(0, 7))
    check_flip(pristine, tmp_path_factory.mktemp("flip") / "j", seg_index, offset, bit)


def test_a_flipped_bit_in_a_segment_header_is_reported_by_segment_offset_and_seq(pristine: Path,
                                                                                  tmp_path: Path) -> None:
    """Magic intact -> damage to a journal of ours (exit 1, like a bad record); magic hit -> not a segment (2)."""
    for offset in range(HEADER_SIZE):
        rc, err = flip_and_verify(pristine, tmp_path / "j", 1, offset, offset % 8)
        seg = segment_files(tmp_path / "j")[1]
        assert err.count("\n") == 1
        if offset < len(MAGIC):
            assert rc == 2, (offset, err)
            assert f"{seg}: corrupt segment header at byte offset 0 (seq {int(seg.name[:20])})" in err
        else:
            assert rc == 1, (offset, err)
            assert f"{seg}: bad record at byte offset 0 (seq {int(seg.name[:20])}): segment header" in err
