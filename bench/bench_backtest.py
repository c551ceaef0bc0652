"""Our backtest (the live decision path, full journal, fsync at the end) beside the same
strategy written for backtesting.py, on the same real candles, in the same process.

    python bench/bench_backtest.py [--data ../shared/data/ohlcv] [--symbol BTC/USDT] [--repeat 3] [--json]

Both sides: Donchian(20) breakout on the close, entry at the next open, Wilder ATR(14)
initial stop at 1.2 ATR, trailing at 2.5 ATR, fee 0.05%. Ours also journals every
candle, signal, order, fill and stop move (the peer records nothing). Prints wall
times (best of --repeat) and bars/s; the ratio is peer time / our time, in wall and in
CPU time (the CPU ratio is the one to trust when the machine is shared).

Fairness: the timed part is, for us, opening the journal, the run id, every candle
through the loop and the final flush + fsync; for the peer, `Backtest.run` (its
indicators and its loop). Reading the candle file and building each side's input
(our CandleClosed list, the peer's DataFrame and Backtest object) is outside the timer
on both sides. The two sides alternate run by run, so load changes hit both alike.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import machine  # noqa: E402
from cli.bootstrap import RunSpec, backtest_runtime  # noqa: E402
from exchange.ohlcv import load_candles, read_ohlcv  # noqa: E402
from journal.stats import journal_stats  # noqa: E402
from machine.params import Params  # noqa: E402


def ours(data: Path, symbol: str, params: Params) -> dict:
    candles = load_candles(data, [symbol], params.timeframe)
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "journal"
        spec = RunSpec(mode="backtest", journal_dir=journal, params=params, symbols=(symbol,),
                       timeframe=params.timeframe)
        started, cpu = time.perf_counter(), time.process_time()
        runtime = backtest_runtime(spec, candles)
        for candle in candles:
            runtime.loop.feed(candle)
        runtime.close()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        records = journal_stats(journal)["records"]
    return {"seconds": seconds, "cpu": cpu, "bars": len(candles), "trades": runtime.summary.trades,
            "records": records}


def peer_frame(data: Path, symbol: str, timeframe: str) -> pd.DataFrame:
    ts, values = read_ohlcv(data, symbol, timeframe)
    frame = pd.DataFrame({name.capitalize(): values[name] for name in ("open", "high", "low", "close", "volume")})
    frame.index = pd.to_datetime(ts, unit="ms")
    return frame


def peer(frame: pd.DataFrame, params: Params) -> dict:
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    def channel_high(high, n):
        return pd.Series(high).rolling(n).max().shift(1).to_numpy()

    def channel_low(low, n):
        return pd.Series(low).rolling(n).min().shift(1).to_numpy()

    def wilder_atr(high, low, close, n):
        h, l, c = pd.Series(high), pd.Series(low), pd.Series(close)
        tr = pd.concat([h - l, (h - c.shift()).abs(), (l - c.shift()).abs()], axis=1).max(axis=1)
        return tr.ewm(alpha=1.0 / n, adjust=False).mean().to_numpy()

    class DonchianATR(Strategy):
        n, atr_n, stop_k, trail_k, risk = (params.donchian_len, params.atr_len, params.atr_stop_k,
                                           params.atr_trail_k, params.risk_pct)

        def init(self):
            d = self.data
            self.upper = self.I(channel_high, d.High, self.n)
            self.lower = self.I(channel_low, d.Low, self.n)
            self.atr = self.I(wilder_atr, d.High, d.Low, d.Close, self.atr_n)

        def next(self):
            close, atr = self.data.Close[-1], self.atr[-1]
            if not np.isfinite(atr) or not np.isfinite(self.upper[-1]):
                return
            if not self.position:
                units = self.risk * self.equity / (self.stop_k * atr)
                size = max(1e-9, min(units * close / self.equity, 0.99))
                if close > self.upper[-1]:
                    self.buy(size=size, sl=close - self.stop_k * atr)
                elif close < self.lower[-1]:
                    self.sell(size=size, sl=close + self.stop_k * atr)
                return
            for trade in self.trades:
                if trade.is_long:
                    trade.sl = max(trade.sl or 0.0, close - self.trail_k * atr)
                else:
                    trade.sl = min(trade.sl or np.inf, close + self.trail_k * atr)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = FractionalBacktest(frame, DonchianATR, cash=params.initial_equity, commission=params.fee_rate,
                                      finalize_trades=True)
        started, cpu = time.perf_counter(), time.process_time()
        stats = backtest.run()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "bars": len(frame), "trades": int(stats["# Trades"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("BASELINE_OHLCV_DIR_FULL", str(REPO.parent / "shared" / "data" / "ohlcv"))
    parser.add_argument("--data", default=default_data)
    parser.add_argument("--symbol", default="BTC/USDT")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "1h").is_dir():
        print(f"bench_backtest: {data}/1h not found (pass --data DIR)", file=sys.stderr)
        return 2
    params = Params()
    frame = peer_frame(data, args.symbol, params.timeframe)
    our_runs, peer_runs = [], []
    for _ in range(args.repeat):  # alternate: a burst of load lands on both sides
        our_runs.append(ours(data, args.symbol, params))
        peer_runs.append(peer(frame, params))
    best_ours = min(our_runs, key=lambda r: r["seconds"])
    best_peer = min(peer_runs, key=lambda r: r["seconds"])
    result = {
        "symbol": args.symbol, "bars": best_ours["bars"],
        "ours_seconds": round(best_ours["seconds"], 4),
        "ours_bars_per_s": round(best_ours["bars"] / best_ours["seconds"]),
        "ours_journal_records": best_ours["records"], "ours_trades": best_ours["trades"],
        "backtesting_py_seconds": round(best_peer["seconds"], 4),
        "backtesting_py_bars_per_s": round(best_peer["bars"] / best_peer["seconds"]),
        "backtesting_py_trades": best_peer["trades"],
        "speedup": round(best_peer["seconds"] / best_ours["seconds"], 2),
        "ours_cpu_seconds": round(min(r["cpu"] for r in our_runs), 4),
        "backtesting_py_cpu_seconds": round(min(r["cpu"] for r in peer_runs), 4),
        "speedup_cpu": round(min(r["cpu"] for r in peer_runs) / min(r["cpu"] for r in our_runs), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "compiled_core": machine.COMPILED,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['bars']} bars of {args.symbol} 1h, best of {args.repeat}")
        print(f"  ours (full journal, {result['ours_journal_records']} records): {result['ours_seconds']:.3f} s, "
              f"{result['ours_bars_per_s']:,} bars/s, {result['ours_trades']} trades")
        print(f"  backtesting.py:                        {result['backtesting_py_seconds']:.3f} s, "
              f"{result['backtesting_py_bars_per_s']:,} bars/s, {result['backtesting_py_trades']} trades")
        print(f"  CPU s (best of {args.repeat}): ours {result['ours_cpu_seconds']}, "
              f"backtesting.py {result['backtesting_py_cpu_seconds']}")
        print(f"  speedup (backtesting.py time / ours): {result['speedup']}x wall, {result['speedup_cpu']}x CPU   "
              f"(load average {result['load_average_1m']}; {'compiled' if machine.COMPILED else 'interpreted'} core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
