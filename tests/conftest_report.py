"""A realistic trading journal for report tests, written with the real JournalWriter.

Real BTC/ETH 1h candles from tests/data; a simple deterministic breakout rule over them
(close beyond the previous 20 bars' channel) produces the same event shapes the bot does:
signals (some filtered), entry plans, orders and fills with fees, initial and trailing
stops, position closes with net pnl, a mark-to-market equity per bar and daily anchors.
It is a fixture, not the strategy: the report must agree with whatever the journal says.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from journal import events as ev
from journal.writer import JournalWriter

BOT_BIN = Path(sys.executable).with_name("bot")
DATA = Path(__file__).parent / "data" / "ohlcv" / "1h"
FEE = 0.0005
START_EQUITY = 10_000.0


class _Bars:
    """Columns as plain Python lists (events take floats, not numpy scalars)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        for name in frame.columns:
            setattr(self, name, frame[name].tolist())


def _bars(symbol: str, n: int) -> _Bars:
    return _Bars(pd.read_csv(DATA / f"{symbol.replace('/', '_')}.csv").head(n))


def _journal_events(symbols: tuple[str, ...], bars: int, lookback: int = 20, hold: int = 12) -> list[ev.Event]:
    frames = {s: _bars(s, bars) for s in symbols}
    ts0 = int(frames[symbols[0]].timestamp[0])
    out: list[ev.Event] = [ev.SessionStarted(ts=ts0, run_id="report-fixture", mode="backtest", version="test",
                                             config_digest="0" * 16, symbols=symbols)]
    cash, open_pos, day, n_trade = START_EQUITY, {}, None, 0
    for i in range(bars):
        unrealized = 0.0
        for sym in symbols:
            f = frames[sym]
            ts, o, h, lo, c = (int(f.timestamp[i]), f.open[i], f.high[i], f.low[i], f.close[i])
            today = pd.Timestamp(ts, unit="ms").strftime("%Y-%m-%d")
            if today != day and sym == symbols[0]:
                day = today
                out.append(ev.DailyAnchorReset(ts=ts, day=today, equity=cash))
            out.append(ev.CandleClosed(ts=ts, symbol=sym, timeframe="1h", open=o, high=h, low=lo, close=c,
                                       volume=f.volume[i]))
            pos = open_pos.get(sym)
            if pos and (i - pos["i"] >= hold or (lo <= pos["stop"] if pos["side"] == "long" else h >= pos["stop"])):
                hit = i - pos["i"] < hold
                px = pos["stop"] if hit else c
                px = min(max(px, lo), h)
                sign = 1 if pos["side"] == "long" else -1
                fee = px * pos["qty"] * FEE
                pnl = sign * (px - pos["entry"]) * pos["qty"] - pos["fee"] - fee
                cash += sign * (px - pos["entry"]) * pos["qty"] - fee
                cid = f"{sym}-x{pos['n']}"
                out += [ev.OrderSubmitted(ts=ts, client_id=cid, symbol=sym, side="sell" if sign > 0 else "buy",
                                          order_kind="market", qty=pos["qty"], purpose="exit", reduce_only=True),
                        ev.OrderFilled(ts=ts, client_id=cid, symbol=sym, fill_id=cid, side="sell" if sign > 0
                                       else "buy", qty=pos["qty"], price=px, fee=fee, purpose="exit"),
                        ev.PositionClosed(ts=ts, symbol=sym, side=pos["side"], trade_id=f"T{pos['n']}",
                                          qty=pos["qty"], entry_ts=pos["ts"], entry_price=pos["entry"],
                                          exit_price=px, pnl=pnl, fees=pos["fee"] + fee,
                                          reason="stop" if hit else "trail")]
                del open_pos[sym]
                pos = None
            if i >= lookback:
                hi20, lo20 = max(f.high[i - lookback:i]), min(f.low[i - lookback:i])
                atr = sum(a - b for a, b in zip(f.high[i - lookback:i], f.low[i - lookback:i])) / lookback
                side = "long" if c > hi20 else "short" if c < lo20 else None
                if side and pos:
                    out.append(ev.SignalFiltered(ts=ts, symbol=sym, side=side, reason="not_flat", close=c,
                                                 channel_high=hi20, channel_low=lo20, atr=atr))
                elif side and i + 1 < bars:
                    n_trade += 1
                    entry = f.open[i + 1]
                    stop = entry - 1.5 * atr if side == "long" else entry + 1.5 * atr
                    qty = round(cash * 0.01 / (1.5 * atr), 6)
                    fee = entry * qty * FEE
                    cash -= fee
                    cid = f"{sym}-e{n_trade}"
                    out += [ev.SignalDetected(ts=ts, symbol=sym, side=side, close=c, channel_high=hi20,
                                              channel_low=lo20, atr=atr),
                            ev.EntryPlanned(ts=ts, symbol=sym, side=side, qty=qty, ref_price=c, stop_price=stop,
                                            atr=atr, risk_amount=cash * 0.01, notional=qty * c, equity=cash),
                            ev.OrderSubmitted(ts=ts, client_id=cid, symbol=sym, side="buy" if side == "long"
                                              else "sell", order_kind="market", qty=qty, purpose="entry"),
                            ev.OrderFilled(ts=int(f.timestamp[i + 1]), client_id=cid, symbol=sym, fill_id=cid,
                                           side="buy" if side == "long" else "sell", qty=qty, price=entry,
                                           fee=fee, purpose="entry"),
                            ev.StopMoved(ts=ts, symbol=sym, side=side, stop_price=stop, reason="initial")]
                    open_pos[sym] = dict(i=i + 1, ts=int(f.timestamp[i + 1]), side=side, entry=entry, qty=qty,
                                         stop=stop, fee=fee, n=n_trade)
            pos = open_pos.get(sym)
            if pos:
                sign = 1 if pos["side"] == "long" else -1
                unrealized += sign * (c - pos["entry"]) * pos["qty"]
        out.append(ev.EquityMarked(ts=int(frames[symbols[0]].timestamp[i]), equity=cash + unrealized,
                                   realized=cash, unrealized=unrealized))
    return out


def write_report_journal(directory: Path, symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
                         bars: int = 1000) -> Path:
    """Write the fixture journal into `directory` and return it."""
    with JournalWriter.open(directory) as writer:
        writer.append(_journal_events(symbols, bars), durable=False)
    return directory


def run_bot(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real `bot` console script, as a user runs it."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(BOT_BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)
