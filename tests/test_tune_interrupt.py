"""Ctrl-C during `bot tune` keeps the finished trials: CSV written, exit 130, one line."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from conftest_tune import FIXTURES, ROOT, SMALL, read_csv, subprocess_env, write_grid

GRID = {"donchian_len": list(range(8, 48)), "atr_stop_k": [1.0, 1.5, 2.0]}  # 120 trials: far more than we wait for


def _data_rows(path) -> int:
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_the_finished_trials_and_exits_130(tmp_path, workers):
    grid, out = write_grid(tmp_path / "grid.json", GRID), tmp_path / "trials.csv"
    cmd = [sys.executable, "-c", "from cli.main import bot_main; bot_main()", "tune", "--data", str(FIXTURES),
           *SMALL, "--grid", str(grid), "--out", str(out), "--workers", workers]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while _data_rows(out) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1]
        seen = _data_rows(out)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and str(out) in lines[0], stderr
    rows = read_csv(out)
    assert seen <= len(rows) < 120
    assert f"{len(rows)}/120 trials finished" in lines[0]
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert len({r["trial"] for r in rows}) == len(rows)
    assert all(r["trades"] != "" for r in rows)


def test_progress_bar_over_trials_only_on_a_terminal(tmp_path):
    import os
    import pty

    grid, out = write_grid(tmp_path / "grid.json", {"donchian_len": [10, 20, 30]}), tmp_path / "trials.csv"
    cmd = [sys.executable, "-c", "from cli.main import bot_main; bot_main()", "tune", "--data", str(FIXTURES),
           *SMALL, "--grid", str(grid), "--out", str(out), "--min-trades", "3"]
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**subprocess_env(), "COLUMNS": "100"}, stdout=subprocess.PIPE,
                            stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert b"tune" in seen and b"3/3" in seen  # the bar counted every trial on the terminal
    assert b"\x1b[" in seen  # a live display (cursor control) on the terminal ...
    assert "\x1b[" not in stdout and "best: trial" in stdout  # ... never on the piped output
