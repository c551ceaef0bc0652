"""The control channel: atomic request files, drained in order, and who holds the writer lock."""
import os
import subprocess
import sys
import time

import pytest

from cli.control import bot_is_running, drain_requests, pending_requests, submit_request
from journal.errors import BadInput
from journal.writer import JournalWriter
from journal.events import HaltRequested, ManualCloseRequested, ProtectOnlyRequested, ResumeRequested, SignalDetected


def test_requests_drain_in_submission_order_and_move_to_done(tmp_path):
    sent = [
        HaltRequested(ts=1, symbol="BTC/USDT"),
        ManualCloseRequested(ts=2, symbol="ETH/USDT", requested_by="mcp"),
        ResumeRequested(ts=3, symbol="BTC/USDT"),
        ProtectOnlyRequested(ts=4),
    ]
    for event in sent:
        submit_request(tmp_path, event)
    assert drain_requests(tmp_path) == sent
    assert drain_requests(tmp_path) == []
    assert len(list((tmp_path / "control" / "done").iterdir())) == 4


def test_submit_leaves_no_temporary_file(tmp_path):
    path = submit_request(tmp_path, HaltRequested(ts=1))
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_garbage_file_is_rejected_not_fatal(tmp_path):
    submit_request(tmp_path, HaltRequested(ts=1))
    (tmp_path / "control" / "pending" / "00000000000000000000-1-bad.json").write_text("{not json")
    assert [e for _, e in pending_requests(tmp_path)] == [HaltRequested(ts=1)]
    assert [p.name for p in (tmp_path / "control" / "rejected").iterdir()] == ["00000000000000000000-1-bad.json"]


def test_only_request_events_are_accepted(tmp_path):
    with pytest.raises(BadInput):
        submit_request(tmp_path, SignalDetected(ts=1, symbol="X", side="long", close=1, channel_high=1,
                                                channel_low=0, atr=1))


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
os.write(fd, str(os.getpid()).encode())
getattr(fcntl, sys.argv[2])(fd, fcntl.LOCK_EX) if sys.argv[2] == "flock" else fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(30)
"""


@pytest.mark.parametrize("how", ["flock", "lockf"])
def test_bot_is_running_names_the_lock_holder(tmp_path, how):
    assert bot_is_running(tmp_path) is None
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "writer.lock"), how], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert bot_is_running(tmp_path) == holder.pid
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.05)
    assert bot_is_running(tmp_path) is None


def test_a_real_journal_writer_is_seen_as_running(tmp_path):
    writer = JournalWriter.open(tmp_path / "j")
    try:
        assert bot_is_running(tmp_path / "j") == os.getpid()
    finally:
        writer.close()
    assert bot_is_running(tmp_path / "j") is None
