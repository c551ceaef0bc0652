"""`journal bench`: append (durable and batched) and read+verify rates beside the disk's own
write+fsync rate, all measured in one run in the same directory.

The raw peer writes records of the journal's mean size with one write+fdatasync each:
what an application gets from this disk with no framing, checksums or chain at all."""
from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from journal.bench_events import event_batches
from journal.reader import read_records
from journal.writer import JournalWriter

_sync = getattr(os, "fdatasync", os.fsync)
ROUND = 100  # batches per durable/raw round (the budget is checked between rounds)
DEFAULT_BUDGET_S = 6.0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _durable_beside_raw(directory: Path, raw_path: Path, batches: list, record_bytes: int, budget_s: float):
    """Durable appends (one fdatasync per batch) interleaved, round by round, with the same number of
    raw write+fdatasync calls on the same disk, so both see the same disk conditions.
    Stops early when the budget is spent (a busy disk can be 50x slower); returns
    (events appended, batches appended, durable seconds, raw writes, raw seconds)."""
    block = b"\xa5" * record_bytes
    events = done = raw_writes = 0
    durable_s = raw_s = 0.0
    fd = os.open(raw_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        with JournalWriter.open(directory) as writer:
            for start in range(0, len(batches), ROUND):
                round_batches = batches[start : start + ROUND]
                t0 = time.perf_counter()
                for batch in round_batches:
                    writer.append(batch, durable=True)
                t1 = time.perf_counter()
                for _ in round_batches:
                    os.write(fd, block)
                    _sync(fd)
                t2 = time.perf_counter()
                durable_s += t1 - t0
                raw_s += t2 - t1
                done += len(round_batches)
                events += sum(len(b) for b in round_batches)
                raw_writes += len(round_batches)
                if budget_s and durable_s + raw_s > budget_s:
                    break
    finally:
        os.close(fd)
        raw_path.unlink(missing_ok=True)
    return events, done, durable_s, raw_writes, raw_s


def _append_batched(directory: Path, batches: list) -> tuple[float, float]:
    """(wall seconds, CPU seconds): CPU time shows the cost when other processes share the cores."""
    start, cpu = time.perf_counter(), time.process_time()
    with JournalWriter.open(directory) as writer:
        for batch in batches:
            writer.append(batch, durable=False)
    return time.perf_counter() - start, time.process_time() - cpu


def _read_verify(directory: Path) -> tuple[int, float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    count = sum(1 for _ in read_records(directory, verify=True))
    return count, time.perf_counter() - start, time.process_time() - cpu


def run_bench(events: int, out: str | os.PathLike[str] | None = None, budget_s: float = DEFAULT_BUDGET_S) -> dict:
    """All four rates from one run. budget_s caps the fsync-bound phase (0 = append all events)."""
    batches = event_batches(events)
    n = sum(len(b) for b in batches)
    work = Path(tempfile.mkdtemp(prefix="journal-bench-", dir=_work_parent(out)))
    try:
        load_before = os.getloadavg()[0]
        batched_s, batched_cpu = _append_batched(work / "batched", batches)
        read_n, read_s, read_cpu = _read_verify(work / "batched")
        journal_bytes = sum(p.stat().st_size for p in (work / "batched").glob("*.seg"))
        record_bytes = max(1, journal_bytes // n)
        durable_dir = Path(out) if out is not None else work / "durable"
        d_events, d_batches, durable_s, raw_writes, raw_s = _durable_beside_raw(
            durable_dir, work / "raw.bin", batches, record_bytes, budget_s
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    durable_eps = d_events / durable_s
    raw_eps = raw_writes / raw_s
    return {
        "events": n,
        "durable_events": d_events,
        "durable_batches": d_batches,
        "events_per_batch": round(n / len(batches), 2),
        "bytes_per_event": record_bytes,
        "append_durable_eps": round(durable_eps),
        "append_durable_batches_per_s": round(d_batches / durable_s),
        "append_batched_eps": round(n / batched_s),
        "read_verify_eps": round(read_n / read_s),
        "append_batched_cpu_eps": round(n / batched_cpu),
        "read_verify_cpu_eps": round(read_n / read_cpu),
        "load_average": round(load_before, 2),
        "raw_fsync_eps": round(raw_eps),
        "durable_vs_raw": round(durable_eps / raw_eps, 3),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "out": str(out) if out is not None else None,
    }


def _work_parent(out: str | os.PathLike[str] | None) -> str | None:
    """Scratch files go on the same disk as --out (or the system temp dir)."""
    if out is None:
        return None
    parent = Path(out).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return str(parent)
