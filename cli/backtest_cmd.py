"""`bot backtest`: offline candles through the live decision path, into a fresh journal.

Same loop as `bot live`; only the wiring differs (paper exchange, simulated clock,
batched journal fsync'd once at the end). The run id is derived from the rules and
the candles, so two runs on the same inputs have the same `content_digest`.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from cli.apps import bot_app
from cli.bootstrap import RunSpec, backtest_run_id, backtest_runtime
from cli.run_options import REPO_ROOT, default_data_dir, fresh_dir, load_run_config, parse_symbols
from cli.stop_flag import StopFlag
from exchange.candle_set import load_candle_set
from exchange.ohlcv import parse_iso_ms
from journal.errors import BadInput

PROGRESS_EVERY = 500


class _Stopped(Exception):
    """A stop signal seen between two bars: ends the feed, the journal is closed as usual."""


@bot_app.command(
    "backtest",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": False},
    help="Backtest offline candles through the live decision path; writes a journal.",
)
def backtest(
    ctx: typer.Context,
    data: Optional[Path] = typer.Option(None, "--data", help="DIR/<timeframe>/<BASE>_<QUOTE>.parquet|csv"),
    symbols: Optional[str] = typer.Option(None, "--symbols", help="e.g. --symbols BTC/USDT ETH/USDT"),
    timeframe: str = typer.Option("1h", "--timeframe"),
    bars: Optional[int] = typer.Option(None, "--bars", help="only the last N bars per symbol"),
    start: Optional[str] = typer.Option(None, "--start", help="ISO date/time, inclusive (UTC)"),
    end: Optional[str] = typer.Option(None, "--end", help="ISO date/time, exclusive (UTC)"),
    journal: Optional[Path] = typer.Option(None, "--journal", help="default: a fresh data/backtests/<run>"),
    config: Optional[Path] = typer.Option(None, "--config", help="config JSON (strategy and risk keys)"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as one JSON object"),
) -> None:
    symbol_list = tuple(sorted(parse_symbols(symbols, ctx.args)))  # flag order never changes the journal
    run_config = load_run_config(config, timeframe, use_env=False)
    params = run_config.params
    data_dir = data if data is not None else default_data_dir()
    start_ms = parse_iso_ms(start, "--start") if start else None
    end_ms = parse_iso_ms(end, "--end") if end else None
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise BadInput(f"--start {start} is not before --end {end}")
    # columns, not a list of events: a long backtest holds 50 bytes a bar, not ≈ 250 (exchange/candle_set.py)
    candles = load_candle_set(data_dir, symbol_list, timeframe, bars=bars, start_ms=start_ms, end_ms=end_ms)
    if not candles:
        raise BadInput(f"{data_dir}: no candles between --start and --end")
    run_id = backtest_run_id(params, candles)
    journal_dir = journal if journal is not None else fresh_dir(REPO_ROOT / "data" / "backtests", f"backtest-{run_id}")
    if journal_dir.exists() and any(journal_dir.glob("*.seg")):
        raise BadInput(f"{journal_dir}: journal already has records; a backtest writes a fresh journal")
    spec = RunSpec(mode="backtest", journal_dir=journal_dir, params=params, symbols=symbol_list,
                   timeframe=timeframe, config_digest=run_config.digest,
                   settings={**run_config.settings, "exchange": "paper", "bars": len(candles)})
    started = time.perf_counter()
    runtime = backtest_runtime(spec, candles, run_id=run_id)
    with StopFlag() as stop:  # from here a Ctrl-C stops between bars: never inside a journal write

        def feed(candle) -> None:
            if stop.is_set():
                raise _Stopped
            runtime.loop.feed(candle)

        try:
            run_candles(feed, candles, show_progress=sys.stderr.isatty() and not as_json)
        except _Stopped:
            pass  # what was decided is kept: a valid journal of the bars before the signal
        finally:
            runtime.close()  # the one fsync of a backtest
    if stop.is_set() and runtime.summary.bars < len(candles):
        print(f"bot: interrupted after {runtime.summary.bars:,} of {len(candles):,} bars; {journal_dir} holds "
              f"that partial backtest (its session_started records bars={len(candles)})", file=sys.stderr)
        sys.exit(128 + (stop.signal or 2))  # 130 for Ctrl-C (not typer.Exit: typer reports that as "aborted")
    seconds = time.perf_counter() - started
    figures = {"run_id": runtime.session.run_id, "journal": str(journal_dir), "symbols": list(symbol_list),
               **runtime.summary.as_dict(seconds), **still_open(runtime.loop.state, runtime.summary)}
    if as_json:
        print(json.dumps(figures))
    else:
        print(summary_line(figures))


def run_candles(feed, candles, show_progress: bool) -> None:
    """Feed every candle, with a rich progress bar only when a person is watching."""
    if not show_progress:
        for candle in candles:
            feed(candle)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("backtest"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("bars", total=len(candles))
        for i, candle in enumerate(candles, 1):
            feed(candle)
            if i % PROGRESS_EVERY == 0:
                progress.update(task, completed=i)


def still_open(state, summary) -> dict:
    """Positions the run ended with. Final equity counts them at the last close, the trades do not (a trade
    is a closed round trip): `open_pnl` (their pnl at the last close, net of the fees they paid) is what
    final equity holds beyond initial equity + trade pnl."""
    from machine.state import equity

    return {"open_positions": sorted(s for s, sym in state.sym.items() if sym.pos is not None),
            "open_pnl": round(equity(state) - summary.initial_equity - summary.pnl, 2) + 0.0}  # + 0.0: no -0.0


def summary_line(f: dict) -> str:
    held = f.get("open_positions") or []
    still = (f", {len(held)} position{'s' if len(held) != 1 else ''} still open ({', '.join(held)}, "
             f"open pnl {f['open_pnl']:+.2f})") if held else ""
    return (
        f"backtest {f['run_id']}: {f['bars']} bars ({', '.join(f['symbols'])}), {f['trades']} trades, "
        f"pnl {f['pnl']:+.2f}{still}, win rate {f['win_rate']:.1%}, max drawdown {f['max_drawdown']:.2%}, "
        f"final equity {f['final_equity']:.2f}, {f['bars_per_s']:,} bars/s\njournal: {f['journal']}"
    )
