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


WRITER_SCRIPT = r'''
import sys, time
from conftest_journal import sample_events
from journal.writer import JournalWriter

path, total, batch, durable, segment_bytes, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5]), float(sys.argv[6])
events = sample_events(total)
with JournalWriter.open(path, segment_bytes=segment_bytes) as w:
    print("opened", flush=True)
    i = 0
    while i < total:
        w.append(events[i:i + batch], durable=durable)
        i += batch
        if i % (batch * 50) == 0:
            print("progress", i, flush=True)
        if pause:
            time.sleep(pause)
    if "--hold" in sys.argv:
        print("holding", flush=True)
        sys.stdin.readline()
print("done", flush=True)
'''


def start_writer(path: Path, total: int, batch: int, durable: bool, segment_bytes: int = 64 << 20,
                 pause: float = 0.0, hold: bool = False) -> subprocess.Popen:
    """A real writer in another process (journal.writer.JournalWriter appending sample events)."""
    args = [sys.executable, "-c", WRITER_SCRIPT, str(path), str(total), str(batch), "1" if durable else "0",
            str(segment_bytes), str(pause)] + (["--hold"] if hold else [])
    env = {**__import__("os").environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)
