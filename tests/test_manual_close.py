"""`bot close SYMBOL --journal DIR`: with a running bot (control channel) and without one (takes the lock)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest_lead import FIXTURES, backtest, run_main
from journal.events import ManualClose, OrderSubmitted, PositionClosed
from journal.reader import read_events

BOT = str(Path(sys.executable).with_name("bot"))
HOUR = 3_600_000


@pytest.fixture(scope="module")
def open_at_end(tmp_path_factory) -> tuple[Path, int, Path]:
    """A data dir whose last bar leaves a long-lived BTC position open, and the full data's next bar."""
    base = tmp_path_factory.mktemp("close")
    journal = backtest(base / "bt", bars=None)
    trade = next(e for e in read_events(journal) if isinstance(e, PositionClosed) and e.symbol == "BTC/USDT"
                 and e.ts - e.entry_ts >= 6 * HOUR)
    cut = trade.entry_ts + 2 * HOUR
    data = base / "data" / "1h"
    data.mkdir(parents=True)
    for name in ("BTC_USDT", "ETH_USDT"):
        frame = pd.read_csv(FIXTURES / "1h" / f"{name}.csv")
        frame[frame.timestamp <= cut].to_csv(data / f"{name}.csv", index=False)
    return base / "data", cut, journal


def paper_live(journal: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([BOT, "live", "--exchange", "paper", "--speed", "max", "--data", str(data),
                           "--journal", str(journal), "--json", *extra], capture_output=True, text=True, timeout=300)


def test_close_without_a_running_bot_takes_the_lock_and_decides_the_close(open_at_end, tmp_path):
    data, cut, _ = open_at_end
    journal = tmp_path / "paper"
    done = paper_live(journal, data)
    assert done.returncode == 0, done.stderr
    rc, out, err = run_main("bot", "close", "BTC/USDT", "--journal", str(journal), "--reason", "test")
    assert rc == 0, err
    events = list(read_events(journal))
    close = [e for e in events if isinstance(e, ManualClose)]
    assert close and close[-1].symbol == "BTC/USDT"
    orders = [e for e in events if isinstance(e, OrderSubmitted) and e.purpose == "manual_close"]
    assert orders and orders[-1].reduce_only
    # the paper venue fills market orders at the next bar's open: the next run completes the trade
    restarted = paper_live(journal, FIXTURES)
    assert restarted.returncode == 0, restarted.stderr
    closed = [e for e in read_events(journal) if isinstance(e, PositionClosed) and e.reason == "manual_close"]
    assert closed and closed[0].symbol == "BTC/USDT" and closed[0].ts == cut + HOUR
    assert run_main("journal", "replay", str(journal))[0] == 0


def _running_bot(journal: Path) -> subprocess.Popen:
    return subprocess.Popen([BOT, "live", "--exchange", "paper", "--speed", "36000", "--data", str(FIXTURES),
                             "--journal", str(journal)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _events_so_far(journal: Path) -> list:
    try:
        return list(read_events(journal))
    except Exception:  # not created yet, or a record being written
        return []


def test_close_with_a_running_bot_goes_through_the_control_channel(open_at_end, tmp_path):
    journal = tmp_path / "running"
    bot = _running_bot(journal)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the bot holds a BTC position and acts on our close
            time.sleep(0.3)
            filled = [e for e in _events_so_far(journal)
                      if type(e).__name__ == "OrderFilled" and e.symbol == "BTC/USDT"]
            if not (filled and filled[-1].purpose == "entry"):
                continue
            rc, out, err = run_main("bot", "close", "BTC/USDT", "--journal", str(journal), "--wait", "60")
            if rc == 1 and "nothing_to_close" in err:
                continue  # its stop closed the position before the bot read the request: try the next one
            assert rc == 0, err
            assert "running bot" in out
            break
        else:
            pytest.fail("the bot never held a BTC position long enough to close it")
    finally:
        bot.terminate()
        bot.wait(timeout=60)
    events = list(read_events(journal))
    assert any(isinstance(e, ManualClose) and e.symbol == "BTC/USDT" for e in events)
    assert any(isinstance(e, PositionClosed) and e.reason == "manual_close" for e in events)


def test_a_running_bot_that_holds_nothing_answers_at_once(tmp_path):
    """The core refuses a close while flat: `bot close` says so as soon as the bot records it (it used to wait
    out --wait and report that the bot had not acted)."""
    journal = tmp_path / "flat"
    bot = _running_bot(journal)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                type(e).__name__ == "CandleClosed" for e in _events_so_far(journal)):
            time.sleep(0.1)
        started = time.monotonic()
        rc, out, err = run_main("bot", "close", "ETH/USDT", "--journal", str(journal), "--wait", "600")
        waited = time.monotonic() - started
    finally:
        bot.terminate()
        bot.wait(timeout=60)
    assert rc == 1 and "answered" in err and "nothing_to_close" in err, err
    assert waited < 300  # the answer, not the --wait timeout, ended the command


def test_close_of_an_unknown_symbol_is_bad_input(open_at_end):
    _, _, journal = open_at_end
    rc, out, err = run_main("bot", "close", "DOGE/USDT", "--journal", str(journal))
    assert rc == 2 and "DOGE/USDT" in err


def test_closing_a_flat_symbol_of_a_paper_journal_records_nothing(open_at_end):
    _, _, journal = open_at_end  # the full backtest ends flat in ETH
    before = len(list(read_events(journal)))
    rc, out, err = run_main("bot", "close", "ETH/USDT", "--journal", str(journal))
    assert rc == 1 and "no open position" in err
    assert len(list(read_events(journal))) == before
