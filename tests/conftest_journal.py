"""Helpers for the journal tests (imported explicitly: `from conftest_journal import ...`)."""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

from journal.bench_events import event_batches
from journal.events import Event
from journal.writer import JournalWriter

ROOT = Path(__file__).resolve().parents[1]
JOURNAL_BIN = Path(sys.executable).with_name("journal")


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run `journal ARGS` in-process through cli.main (same exit-code mapping as the console script)."""
    from cli.main import journal_main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["journal", *map(str, args)]
    rc = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            journal_main()
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return rc, out.getvalue(), err.getvalue()


def run_journal_process(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The real console script in a subprocess."""
    return subprocess.run([str(JOURNAL_BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def sample_events(n: int) -> list[Event]:
    return [e for batch in event_batches(n) for e in batch]


def fixed_clock(start: int = 1_800_000_000_000):
    """A wall clock that ticks 1 ms per call: deterministic recorded_at."""
    state = [start]

    def now() -> int:
        state[0] += 1
        return state[0]

    return now


def make_journal(path: Path, n: int, segment_bytes: int = 64 * 1024 * 1024, batch: int = 1) -> JournalWriter:
    """Write n realistic events in batches (durable) and return the closed writer."""
    events = sample_events(n)
    with JournalWriter.open(path, wall_clock=fixed_clock(), segment_bytes=segment_bytes) as writer:
        for i in range(0, n, batch):
            writer.append(events[i : i + batch], durable=False)
    return writer


def segment_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.seg"))
