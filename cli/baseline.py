"""The seed's baseline.json workflow, rebuilt on the journal.

A baseline is a small backtest frozen as JSON: the candles it ran on, every signal
(accepted or filtered, with reason), every stop set or moved, the trades, and the
report metrics. `bot baseline` writes it, `bot refresh-baseline-metrics` embeds the
metrics, and `journal replay DIR --baseline FILE` (plus tests/test_baseline_*.py)
checks a journal against it: signals and stops exactly, metrics within rel/abs 1e-2.
"""
from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any, Sequence

import msgspec

from cli.bootstrap import RunSpec, run_backtest
from cli.run_options import load_run_config
from exchange.ohlcv import load_candles
from journal.errors import BadInput
from journal.events import (
    CandleClosed, EquityMarked, PositionClosed, SessionStarted, SignalDetected, SignalFiltered, StopMoved,
)
from journal.reader import read_events
from machine.params import Params

BASELINE_VERSION = 1
METRIC_KEYS = ("trades", "win_rate", "expectancy", "mdd", "profit_factor", "sharpe")
TOLERANCE = 1e-2


def _signal(e: SignalDetected | SignalFiltered) -> dict[str, Any]:
    accepted = isinstance(e, SignalDetected)
    return {"symbol": e.symbol, "ts": e.ts, "side": e.side, "accepted": accepted,
            "filter_reason": None if accepted else e.reason, "close": e.close,
            "channel_high": e.channel_high, "channel_low": e.channel_low, "atr": e.atr}


def _stop(e: StopMoved) -> dict[str, Any]:
    return {"symbol": e.symbol, "ts": e.ts, "side": e.side, "stop_price": e.stop_price, "reason": e.reason}


def _trade(e: PositionClosed) -> dict[str, Any]:
    return {"trade_id": e.trade_id, "symbol": e.symbol, "side": e.side, "entry_ts": e.entry_ts, "exit_ts": e.ts,
            "entry_price": e.entry_price, "exit_price": e.exit_price, "qty": e.qty, "pnl": e.pnl,
            "fees": e.fees, "exit_reason": e.reason}


def decisions_of(journal_dir: Path, symbols: Sequence[str] | None = None) -> dict[str, Any]:
    """Candles, signals, stops, trades and the equity curve recorded in a journal."""
    out: dict[str, Any] = {"candles": {}, "signals": [], "stops": [], "trades": [], "equity": [], "params": None}
    wanted = set(symbols) if symbols else None
    for e in read_events(journal_dir):
        symbol = getattr(e, "symbol", None)
        if wanted is not None and symbol is not None and symbol not in wanted:
            continue
        if isinstance(e, SessionStarted) and out["params"] is None:
            out["params"] = e.settings.get("params")
        elif isinstance(e, CandleClosed):
            out["candles"].setdefault(e.symbol, []).append([e.ts, e.open, e.high, e.low, e.close, e.volume])
        elif isinstance(e, (SignalDetected, SignalFiltered)):
            out["signals"].append(_signal(e))
        elif isinstance(e, StopMoved):
            out["stops"].append(_stop(e))
        elif isinstance(e, PositionClosed):
            out["trades"].append(_trade(e))
        elif isinstance(e, EquityMarked):
            out["equity"].append([e.ts, e.equity])
    return out


def metrics_of(trades: list[dict], equity: list[list], initial_equity: float) -> dict[str, Any]:
    """The seed's report_metrics (win rate, expectancy, MDD, profit factor, Sharpe), JSON-safe."""
    import pandas as pd

    from projections.metrics import report_metrics

    trades_df = pd.DataFrame(trades, columns=["trade_id", "symbol", "side", "entry_ts", "exit_ts", "entry_price",
                                              "exit_price", "qty", "pnl", "fees", "exit_reason"])
    curve = [[0, initial_equity], *equity]
    equity_df = pd.DataFrame(curve, columns=["ts", "equity"])
    metrics = report_metrics(trades_df, equity_df)
    return {k: v for k, v in metrics.items() if v is None or isinstance(v, (int, float, str))}


def backtest_into(data_dir: Path, symbols: Sequence[str], timeframe: str, bars: int, params: Params,
                 settings: dict[str, Any], journal_dir: Path) -> None:
    candles = load_candles(data_dir, symbols, timeframe, bars=bars)
    if not candles:
        raise BadInput(f"{data_dir}: no candles for {', '.join(symbols)} {timeframe}")
    run_backtest(RunSpec(mode="backtest", journal_dir=journal_dir, params=params, symbols=tuple(symbols),
                         timeframe=timeframe, settings=settings), candles)


def build_baseline(data_dir: Path, symbols: Sequence[str], timeframe: str, bars: int,
                   config: Path | None = None) -> dict[str, Any]:
    run_config = load_run_config(config, timeframe, use_env=False)
    with tempfile.TemporaryDirectory(prefix="baseline-") as tmp:
        backtest_into(data_dir, symbols, timeframe, bars, run_config.params, run_config.settings, Path(tmp) / "j")
        recorded = decisions_of(Path(tmp) / "j")
    baseline = {"version": BASELINE_VERSION, "symbols": list(symbols), "timeframe": timeframe, "bars": bars,
                **recorded}
    baseline["report_metrics"] = metrics_of(baseline["trades"], baseline["equity"],
                                            run_config.params.initial_equity)
    return baseline


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadInput(f"{path}: baseline file not found") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: not a baseline JSON file ({exc})") from None
    for key in ("symbols", "signals", "stops", "trades"):
        if key not in data:
            raise BadInput(f"{path}: baseline has no {key!r} key")
    return data


def write_baseline(path: Path, baseline: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(baseline, indent=1, sort_keys=False) + "\n")
    tmp.replace(path)


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def compare_decisions(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Signals and stops must match exactly; report metrics within rel/abs 1e-2."""
    problems: list[str] = []
    for key in ("signals", "stops"):
        want, got = expected[key], actual[key]
        for i, (w, g) in enumerate(zip(want, got)):
            if w != g:
                fields = [f for f in w if w.get(f) != g.get(f)]
                problems.append(f"{key}[{i}] ({w.get('symbol')} ts={w.get('ts')}) differs in {fields}: "
                                f"baseline {[w.get(f) for f in fields]} vs {[g.get(f) for f in fields]}")
                break
        if len(want) != len(got):
            problems.append(f"{key}: baseline has {len(want)}, journal has {len(got)}")
    want_metrics = expected.get("report_metrics") or {}
    got_metrics = actual.get("report_metrics") or {}
    for key in METRIC_KEYS:
        if key in want_metrics and not _close(want_metrics[key], got_metrics.get(key)):
            problems.append(f"report_metrics.{key}: baseline {want_metrics[key]} vs {got_metrics.get(key)}")
    return problems


def check_journal_against_baseline(journal_dir: Path, baseline_path: Path) -> list[str]:
    baseline = load_baseline(baseline_path)
    actual = decisions_of(journal_dir, baseline["symbols"])
    params = msgspec.convert(actual["params"] or {}, Params)
    actual["report_metrics"] = metrics_of(actual["trades"], actual["equity"], params.initial_equity)
    return compare_decisions(baseline, actual)
