"""Finding and validating the segment files of a journal directory.

Anything in the directory that is not named like a segment (projections, locks,
quarantine files, control files of other tools) is ignored.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from journal.errors import BadInput
from journal.framing import HEADER_SIZE, MAGIC, SEGMENT_RE, SegmentHeader, unpack_header


class Segment(NamedTuple):
    path: Path
    first_seq: int
    prev: bytes

    @property
    def name(self) -> str:
        return self.path.name


def check_journal_dir(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise BadInput(f"{p}: no such journal directory")
    if not p.is_dir():
        raise BadInput(f"{p}: not a directory (a journal is a directory of segment files)")
    return p


def read_header(path: Path) -> SegmentHeader:
    try:
        with open(path, "rb") as f:
            raw = f.read(HEADER_SIZE)
        header = unpack_header(raw)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read segment ({exc.strerror})") from None
    except ValueError as exc:
        if raw[: len(MAGIC)] == MAGIC and len(raw) == HEADER_SIZE and SEGMENT_RE.match(path.name):
            # One of ours, damaged (a flipped bit): a check failure like a bad record, exit 1.
            raise _damaged(path, str(exc)) from None
        raise BadInput(f"{path}: corrupt segment header at byte offset 0{_seq_note(path)}: {exc}") from None
    if SEGMENT_RE.match(path.name) and int(path.name[:20]) != header.first_seq:
        raise _damaged(path, f"first seq {header.first_seq} does not match the file name")
    return header


def _damaged(path: Path, reason: str) -> Exception:
    """A segment that carries our magic but a damaged header: data damage (exit 1), not foreign input."""
    from journal.scan import JournalCorrupt  # scan imports this module

    return JournalCorrupt(str(path), 0, int(path.name[:20]), f"segment header: {reason}")


def _seq_note(path: Path) -> str:
    """The seq a damaged header's segment starts at, known from its file name."""
    return f" (seq {int(path.name[:20])})" if SEGMENT_RE.match(path.name) else ""


def segment_paths(directory: Path) -> list[Path]:
    names = sorted(n for n in os.listdir(directory) if SEGMENT_RE.match(n))
    return [directory / n for n in names]


def list_segments(path: str | os.PathLike[str], allow_empty: bool = False) -> list[Segment]:
    """Segments in seq order with validated headers; BadInput for a non-journal path."""
    directory = check_journal_dir(path)
    paths = segment_paths(directory)
    if not paths and not allow_empty:
        raise BadInput(f"{directory}: not a journal directory (no segment files)")
    segments = []
    for p in paths:
        header = read_header(p)
        segments.append(Segment(p, header.first_seq, header.prev))
    return segments


def segment_index_for(segments: list[Segment], seq: int) -> int:
    """Index of the segment holding `seq` (the last one starting at or before it)."""
    index = 0
    for i, seg in enumerate(segments):
        if seg.first_seq <= seq:
            index = i
        else:
            break
    return index
