"""Helpers for the projection, SQL and audit tests: synthetic journals written with JournalWriter."""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from journal.events import (CandleClosed, DailyAnchorReset, EquityMarked, EquityObserved, Event, KillSwitchTripped,
                            OrderAccepted, OrderCanceled, OrderFilled, OrderRejected, OrderSubmitted, PositionClosed,
                            SessionStarted, SignalDetected, SignalFiltered, StopMoved)
from journal.writer import JournalWriter

BTC, ETH = "BTC/USDT", "ETH/USDT"
H = 3_600_000
JOURNAL_BIN = Path(sys.executable).with_name("journal")


def write_journal(path: Path, events: Sequence[Event]) -> Path:
    with JournalWriter.open(path, wall_clock=lambda: 1_700_000_000_000) as writer:
        writer.append(list(events), durable=False)
    return path


def run_journal(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real `journal` console script, as a user runs it."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(JOURNAL_BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                           env=env)


def journal_in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The same `journal` entry point called in this process (no interpreter start-up per call)."""
    from cli.main import journal_main

    out, err = io.StringIO(), io.StringIO()
    argv, sys.argv = sys.argv, ["journal", *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                journal_main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(["journal", *args], code, out.getvalue(), err.getvalue())


def candle(symbol: str, i: int, close: float) -> CandleClosed:
    return CandleClosed(ts=i * H, symbol=symbol, timeframe="1h", open=close - 1.0, high=close + 2.0,
                        low=close - 3.0, close=close, volume=10.0 + i)


def trading_session() -> list[Event]:
    """One long round trip on BTC (entry in two partial fills, initial stop, trail, stop exit),
    one rejected ETH entry, one canceled order, a filtered signal, anchors and equity marks."""
    return [
        SessionStarted(ts=0, run_id="run-1", mode="backtest", version="0.1.0", config_digest="abc",
                       symbols=(BTC, ETH)),
        DailyAnchorReset(ts=0, day="1970-01-01", equity=10_000.0),
        EquityObserved(ts=0, equity=10_000.0),
        candle(BTC, 0, 100.0), candle(ETH, 0, 50.0),
        candle(BTC, 1, 110.0),
        SignalDetected(ts=1 * H, symbol=BTC, side="long", close=110.0, channel_high=105.0, channel_low=90.0, atr=4.0),
        SignalFiltered(ts=1 * H, symbol=ETH, side="short", reason="funding_window", close=40.0,
                       channel_high=60.0, channel_low=45.0, atr=2.0),
        OrderSubmitted(ts=1 * H, client_id="c-entry", symbol=BTC, side="buy", order_kind="market", qty=2.0,
                       purpose="entry"),
        OrderSubmitted(ts=1 * H, client_id="c-eth", symbol=ETH, side="sell", order_kind="market", qty=1.0,
                       purpose="entry"),
        OrderAccepted(ts=1 * H, client_id="c-entry", symbol=BTC, exchange_id="x1"),
        OrderRejected(ts=1 * H, client_id="c-eth", symbol=ETH, reason="margin", code=-2019, message="no margin"),
        OrderFilled(ts=2 * H, client_id="c-entry", symbol=BTC, fill_id="f1", side="buy", qty=0.5, price=111.0,
                    fee=0.02775, purpose="entry", cum_qty=0.5, order_qty=2.0),
        OrderFilled(ts=2 * H, client_id="c-entry", symbol=BTC, fill_id="f2", side="buy", qty=1.5, price=111.5,
                    fee=0.083625, purpose="entry", cum_qty=2.0, order_qty=2.0),
        OrderFilled(ts=2 * H, client_id="c-entry", symbol=BTC, fill_id="f2", side="buy", qty=1.5, price=111.5,
                    fee=0.083625, purpose="entry", cum_qty=2.0, order_qty=2.0),  # duplicate report
        StopMoved(ts=1 * H, symbol=BTC, side="long", stop_price=103.0, reason="initial"),
        OrderSubmitted(ts=2 * H, client_id="c-stop1", symbol=BTC, side="sell", order_kind="stop_market", qty=2.0,
                       purpose="stop", stop_price=103.0, reduce_only=True),
        OrderAccepted(ts=2 * H, client_id="c-stop1", symbol=BTC),
        candle(BTC, 2, 118.0),
        EquityMarked(ts=2 * H, equity=10_013.0, realized=0.0, unrealized=13.0),
        StopMoved(ts=2 * H, symbol=BTC, side="long", stop_price=111.375, reason="breakeven", prev_stop=103.0),
        OrderSubmitted(ts=2 * H, client_id="c-stop2", symbol=BTC, side="sell", order_kind="stop_market", qty=2.0,
                       purpose="stop", stop_price=111.375, reduce_only=True),
        OrderCanceled(ts=2 * H, client_id="c-stop1", symbol=BTC, reason="replaced"),
        OrderFilled(ts=3 * H, client_id="c-stop2", symbol=BTC, fill_id="f3", side="sell", qty=2.0, price=111.375,
                    fee=0.111375, purpose="stop"),
        PositionClosed(ts=3 * H, symbol=BTC, side="long", trade_id="BTC-1", qty=2.0, entry_ts=2 * H,
                       entry_price=111.375, exit_price=111.375, pnl=-0.22275, fees=0.22275, reason="breakeven"),
        candle(BTC, 3, 109.0),
        EquityMarked(ts=3 * H, equity=9_999.77725, realized=-0.22275, unrealized=0.0),
        DailyAnchorReset(ts=24 * H, day="1970-01-02", equity=9_999.77725),
        KillSwitchTripped(ts=25 * H, reason="operator"),
    ]
