"""One writer at a time; readers follow a live writer; a SIGKILLed writer leaves a recoverable journal."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest_journal import JOURNAL_BIN, make_journal, run_cli, sample_events, start_writer
from journal.lock import JournalLocked
from journal.reader import follow_records, read_records
from journal.writer import JournalWriter


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"writer exited {proc.returncode}: {proc.stderr.read()}")
    raise AssertionError(f"no {prefix!r} from writer")


def test_second_writer_in_another_process_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "j"
    holder = start_writer(path, total=10, batch=5, durable=True, hold=True)
    try:
        wait_for_line(holder, "holding")
        with pytest.raises(JournalLocked, match=rf"locked by another writer \(pid {holder.pid}\)"):
            JournalWriter.open(path)
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    with JournalWriter.open(path) as writer:  # released when the holder exits
        assert writer.last_seq == 10


def test_journal_repair_is_refused_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with JournalWriter.open(path) as writer:
        writer.append(sample_events(3))
        proc = subprocess.run([str(JOURNAL_BIN), "repair", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"journal: error: {path}: journal is locked by another writer (pid {os.getpid()})"


def test_reader_follows_a_concurrent_writer_seeing_every_seq_once(tmp_path: Path) -> None:
    path = tmp_path / "j"
    total = 3_000
    writer = start_writer(path, total=total, batch=3, durable=True, segment_bytes=16_000, pause=0.0005)
    try:
        wait_for_line(writer, "opened")
        deadline = time.monotonic() + 60
        seen = []
        for rec in follow_records(path, poll_interval=0.01, stop=lambda: time.monotonic() > deadline):
            seen.append(rec)
            if rec.seq == total:
                break
    finally:
        writer.communicate(timeout=60)
    assert [r.seq for r in seen] == list(range(1, total + 1))
    assert [r.event for r in seen] == sample_events(total)
    assert len(list(path.glob("*.seg"))) > 3, "the follower must have crossed segment rolls"


def test_journal_tail_follow_prints_records_as_they_are_appended(tmp_path: Path) -> None:
    path = tmp_path / "j"
    make_journal(path, 5)
    tail = subprocess.Popen([str(JOURNAL_BIN), "tail", str(path), "-n", "2", "--follow", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = [json.loads(tail.stdout.readline())["seq"] for _ in range(2)]
        with JournalWriter.open(path) as writer:
            writer.append(sample_events(8)[5:], durable=True)
        later = [json.loads(tail.stdout.readline())["seq"] for _ in range(3)]
    finally:
        tail.send_signal(signal.SIGINT)
        tail.communicate(timeout=30)
    assert first == [4, 5] and later == [6, 7, 8]
    assert tail.returncode == 0


def test_sigkill_mid_append_leaves_a_journal_that_opens_after_recovery(tmp_path: Path) -> None:
    path = tmp_path / "j"
    total = 400_000
    writer = start_writer(path, total=total, batch=2_000, durable=False, segment_bytes=1 << 20)
    wait_for_line(writer, "progress")
    time.sleep(0.2)
    writer.send_signal(signal.SIGKILL)
    writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    with JournalWriter.open(path) as reopened:
        last_good = reopened.recovered.last_good_seq if reopened.recovered else reopened.last_seq
        assert 0 < last_good < total
    records = list(read_records(path))
    assert [r.event for r in records[:last_good]] == sample_events(last_good)
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert run_cli("verify", path)[0] == 0


def test_verify_treats_a_partial_record_as_in_progress_only_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    from journal.lock import WriterLock

    path = tmp_path / "j"
    make_journal(path, 20)
    seg = sorted(path.glob("*.seg"))[-1]
    with open(seg, "ab") as f:
        f.write(b"\x40\x00\x00\x00\xbf\xff")  # the first 6 bytes of a frame header: a write in progress
    lock = WriterLock.acquire(path)
    try:
        rc, out, _ = run_cli("verify", path)
        assert rc == 0 and "20 records" in out and "a writer is appending" in out
    finally:
        lock.release()
    rc, _, err = run_cli("verify", path)
    assert rc == 1 and "torn tail at byte offset" in err and "(seq 21)" in err


def test_follow_from_a_future_seq_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "j"
    make_journal(path, 10)
    polls = []

    def stop() -> bool:
        polls.append(1)
        if len(polls) == 3:
            with JournalWriter.open(path) as writer:
                writer.append(sample_events(13)[10:], durable=True)
        return len(polls) > 6

    got = [r.seq for r in follow_records(path, from_seq=12, poll_interval=0.01, stop=stop)]
    assert got == [12, 13]


def test_sigkill_during_durable_appends_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    path = tmp_path / "j"
    writer = start_writer(path, total=200_000, batch=3, durable=True, segment_bytes=64_000)
    first = wait_for_line(writer, "progress")
    time.sleep(0.3)
    writer.send_signal(signal.SIGKILL)
    out, _ = writer.communicate(timeout=30)
    acked = max(int(line.split()[1]) for line in [first, *out.splitlines()] if line.startswith("progress"))
    with JournalWriter.open(path) as reopened:
        last_good = reopened.recovered.last_good_seq if reopened.recovered else reopened.last_seq
    assert last_good >= acked  # everything append() returned for is there
    assert [r.event for r in read_records(path)][:last_good] == sample_events(last_good)
    assert run_cli("verify", path)[0] == 0
