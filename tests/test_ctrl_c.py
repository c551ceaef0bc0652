"""Ctrl-C anywhere: exit 130 and one line, and nothing recorded is lost or damaged.

A signal lands between any two bytecodes, inside a buffered journal write or a DuckDB callback
too; these tests put it exactly there.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REAL = Path(os.environ.get("SHARED_OHLCV_DIR", REPO.parent / "shared" / "data" / "ohlcv"))
BOT = "import sys; from cli.main import bot_main; sys.argv = ['bot', *sys.argv[1:]]; bot_main()"
JOURNAL = "import sys; from cli.main import journal_main; sys.argv = ['journal', *sys.argv[1:]]; journal_main()"


def run(code: str, *args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


# The Ctrl-C arrives while the journal is being written mid-run. With the C build the committer thread is
# framing and writing the batch just handed to it; without it, Python raises KeyboardInterrupt right after the
# os.write syscall returns, inside JournalWriter._write_buffer, before the buffer is cleared.
DURING_WRITE = """
import os, signal, sys
import journal.writer as w
import cli.backtest_cmd as b
from cli.main import bot_main
real_write, real_submit, running, fired = os.write, w.JournalWriter._submit, [], []
def interrupt():
    if running and not fired:
        fired.append(1)
        os.kill(os.getpid(), signal.SIGINT)
def write(fd, data):
    n = real_write(fd, data)
    interrupt()
    return n
def submit(self, *args):
    real_submit(self, *args)
    interrupt()
w.os.write = write
w.JournalWriter._submit = submit
orig = b.run_candles
def run_candles(feed, candles, show_progress):
    running.append(1)
    return orig(feed, candles, show_progress)
b.run_candles = run_candles
sys.argv = ['bot', *sys.argv[1:]]
bot_main()
"""


@pytest.mark.skipif(not (REAL / "1h").is_dir(), reason="needs ../shared/data/ohlcv (more than 1 MiB of journal)")
def test_ctrl_c_during_a_journal_write_stops_at_the_next_bar_with_a_verified_journal(tmp_path):
    journal = tmp_path / "j"
    done = run(DURING_WRITE, "backtest", "--data", REAL, "--symbols", "BTC/USDT", "ETH/USDT", "--journal", journal)
    assert done.returncode == 130, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bot: interrupted after "), done.stderr
    assert run(JOURNAL, "verify", journal).returncode == 0
    assert run(JOURNAL, "replay", journal).stdout.strip().splitlines()[-1] == "all decisions reproduce"


# The Ctrl-C lands DELAY seconds after the projection catch-up began, while the main thread is inside DuckDB.
DURING_CATCH_UP = """
import os, signal, sys, threading, time
import projections.store as store
from cli.main import journal_main
real, started = store.apply_batch, []
def apply_batch(con, table):
    if not started:
        started.append(1)
        delay = float(os.environ["DELAY"])
        threading.Thread(target=lambda: (time.sleep(delay), os.kill(os.getpid(), signal.SIGINT)), daemon=True).start()
    return real(con, table)
store.apply_batch = apply_batch
sys.argv = ['journal', *sys.argv[1:]]
journal_main()
"""


@pytest.mark.skipif(not (REAL / "1h").is_dir(), reason="needs ../shared/data/ohlcv (a catch-up long enough to hit)")
def test_ctrl_c_during_the_projection_catch_up_is_exit_130_and_one_line(tmp_path):
    journal = tmp_path / "j"
    assert run(BOT, "backtest", "--data", REAL, "--symbols", "BTC/USDT", "ETH/USDT", "--journal", journal,
               "--json").returncode == 0
    seen = {}
    for delay in ("0", "0.002", "0.005", "0.01", "0.02", "0.05"):
        for stale in journal.glob("projections.duckdb*"):
            stale.unlink()  # the first query after a recording catches the projection up
        done = run(JOURNAL, "sql", journal, "SELECT count(*) FROM trades", env={"DELAY": delay})
        lines = done.stderr.strip().splitlines()
        seen[delay] = (done.returncode, len(lines), lines[-1] if lines else "")
    bad = {delay: got for delay, got in seen.items() if got[0] != 0 and got != (130, 1, "journal: aborted")}
    assert not bad, "\n".join(f"{delay}: {got}" for delay, got in bad.items())


def test_ctrl_c_while_the_command_modules_load_is_exit_130_and_one_line(monkeypatch, capsys):
    import cli.main

    def loading() -> None:  # a Ctrl-C in the first ~0.35 s, while _register() imports every cli/*_cmd*.py
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.main, "_register", loading)
    monkeypatch.setattr(sys, "argv", ["bot", "report", "--journal", "x"])
    with pytest.raises(SystemExit) as done:
        cli.main.bot_main()
    assert done.value.code == 130 and capsys.readouterr().err.strip().splitlines() == ["bot: aborted"]


def test_a_bare_command_shows_its_help_without_an_empty_error_line():
    done = run(BOT)
    assert done.returncode == 2 and "Usage: bot" in done.stdout and done.stderr.strip() == ""
