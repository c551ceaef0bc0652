"""`bot live --exchange paper` through the real command line: same fills as a backtest,
graceful SIGTERM, and crash-only restarts (SIGKILL at random moments) that end with the
fills of an uninterrupted run, no duplicate order ids, a verifying, replaying journal."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from cli.replay import replay_journal
from exchange.paper import PaperExchange
from exchange.paper_state import STATE_FILE
from journal.events import OrderFilled, OrderSubmitted, ReconcileObserved, SessionStarted
from journal.reader import read_events
from journal.verify import verify_journal

REPO = Path(__file__).resolve().parent.parent
BOT = [sys.executable, "-c", "from cli.main import bot_main; bot_main()"]
FIXTURES = REPO / "tests" / "data" / "ohlcv"
BARS = 300


def env() -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("BOT_CONFIG_JSON", "BASELINE_OHLCV_DIR")}
    return {**clean, "PYTHONUNBUFFERED": "1"}


def bot(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*BOT, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env())


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The last BARS demo bars of each symbol (keeps the runs short)."""
    root = tmp_path_factory.mktemp("ohlcv")
    (root / "1h").mkdir()
    for name in ("BTC_USDT", "ETH_USDT"):
        pd.read_csv(FIXTURES / "1h" / f"{name}.csv").tail(BARS).to_csv(root / "1h" / f"{name}.csv", index=False)
    return root


def fills(journal: Path) -> list[tuple]:
    return [(e.ts, e.symbol, e.side, e.qty, e.price, e.fee, e.purpose)
            for e in read_events(journal) if isinstance(e, OrderFilled)]


@pytest.fixture(scope="module")
def backtest_fills(data, tmp_path_factory) -> list[tuple]:
    journal = tmp_path_factory.mktemp("bt") / "j"
    done = bot("backtest", "--data", str(data), "--symbols", "BTC/USDT", "ETH/USDT", "--journal", str(journal))
    assert done.returncode == 0, done.stderr
    return fills(journal)


def test_paper_live_at_max_speed_fills_exactly_like_the_backtest(data, backtest_fills, tmp_path):
    done = bot("live", "--exchange", "paper", "--data", str(data), "--speed", "max", "--journal",
               str(tmp_path / "j"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bars"] == 2 * BARS and summary["restarted"] is False
    assert fills(tmp_path / "j") == backtest_fills and len(backtest_fills) > 5
    assert (tmp_path / "j" / "paper_exchange.json").is_file()
    assert replay_journal(tmp_path / "j").ok


def test_sigterm_finishes_the_bar_flushes_and_exits_0(data, tmp_path):
    journal = tmp_path / "j"
    proc = subprocess.Popen([*BOT, "live", "--data", str(data), "--speed", "20000", "--journal", str(journal),
                             "--json"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env())
    deadline = time.monotonic() + 120
    while journal_bytes(journal) < 16_384 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)  # trading has begun
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["stopped_by_signal"] == signal.SIGTERM and 0 < summary["bars"] < 2 * BARS
    assert verify_journal(journal) is not None


def journal_bytes(journal: Path) -> int:
    return sum(p.stat().st_size for p in journal.glob("*.seg")) if journal.exists() else 0


def test_killed_at_random_moments_and_restarted_it_ends_like_an_uninterrupted_run(data, backtest_fills, tmp_path):
    journal = tmp_path / "j"
    rng = random.Random(20251128)
    kills = 0
    for _ in range(6):
        size_before = journal_bytes(journal)
        proc = subprocess.Popen([*BOT, "live", "--data", str(data), "--speed", "200000", "--journal",
                                 str(journal), "--json"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env())
        deadline = time.monotonic() + 120
        while journal_bytes(journal) <= size_before + 4096 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)  # this run is trading (past its start-up records)
        time.sleep(rng.uniform(0.0, 1.0))
        if proc.poll() is None:
            proc.kill()  # SIGKILL: no handler, no flush
            kills += 1
        proc.communicate(timeout=60)
    done = bot("live", "--data", str(data), "--speed", "max", "--journal", str(journal), "--json")
    assert done.returncode == 0, done.stderr
    assert kills >= 2, "the runs finished before they could be killed: nothing was tested"
    events = list(read_events(journal))
    ids = Counter(e.client_id for e in events if isinstance(e, OrderSubmitted))
    assert not [cid for cid, n in ids.items() if n > 1]
    assert fills(journal) == backtest_fills
    assert sum(isinstance(e, SessionStarted) for e in events) >= kills + 1
    assert sum(isinstance(e, ReconcileObserved) for e in events) >= kills
    assert replay_journal(journal).ok
    venue = PaperExchange(state_path=journal / STATE_FILE)
    for position in venue.positions():
        stops = [o for o in venue.open_orders(position.symbol) if o.order_kind == "stop_market" and o.reduce_only]
        assert stops, f"{position.symbol} open without a live stop"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--speed", "fast"], "--speed 'fast'"),
        (["--speed", "-3"], "--speed '-3'"),
        (["--exchange", "kraken"], "--exchange 'kraken'"),
    ],
)
def test_bad_live_flags_exit_2_with_one_line(tmp_path, args, words):
    done = bot("live", "--journal", str(tmp_path / "j"), *args)
    assert done.returncode == 2 and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
