"""`journal bench`: append (durable and batched) and read+verify rates beside the disk's own
write+fsync rate, all measured in one run in the same directory."""
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


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _append(directory: Path, batches: list, durable: bool) -> float:
    start = time.perf_counter()
    with JournalWriter.open(directory) as writer:
        for batch in batches:
            writer.append(batch, durable=durable)
    return time.perf_counter() - start


def _read_verify(directory: Path) -> tuple[int, float]:
    start = time.perf_counter()
    count = sum(1 for _ in read_records(directory, verify=True))
    return count, time.perf_counter() - start


def _raw_write_fsync(path: Path, writes: int, size: int) -> float:
    """The disk's own rate for the same work without a journal: write `size` bytes, fdatasync."""
    block = b"\xa5" * size
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        start = time.perf_counter()
        for _ in range(writes):
            os.write(fd, block)
            _sync(fd)
        return time.perf_counter() - start
    finally:
        os.close(fd)
        path.unlink()


def run_bench(events: int, out: str | os.PathLike[str] | None = None) -> dict:
    batches = event_batches(events)
    n = sum(len(b) for b in batches)
    work = Path(tempfile.mkdtemp(prefix="journal-bench-", dir=_work_parent(out)))
    try:
        durable_dir = Path(out) if out is not None else work / "durable"
        durable_s = _append(durable_dir, batches, durable=True)
        batched_s = _append(work / "batched", batches, durable=False)
        read_n, read_s = _read_verify(work / "batched")
        journal_bytes = sum(p.stat().st_size for p in (work / "batched").glob("*.seg"))
        record_bytes = max(1, journal_bytes // n)
        raw_s = _raw_write_fsync(work / "raw.bin", len(batches), record_bytes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "events": n,
        "batches": len(batches),
        "events_per_batch": round(n / len(batches), 2),
        "bytes_per_event": record_bytes,
        "append_durable_eps": round(n / durable_s),
        "append_durable_batches_per_s": round(len(batches) / durable_s),
        "append_batched_eps": round(n / batched_s),
        "read_verify_eps": round(read_n / read_s),
        "raw_fsync_eps": round(len(batches) / raw_s),
        "durable_vs_raw": round((n / durable_s) / (len(batches) / raw_s), 3),
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
