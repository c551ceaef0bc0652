"""`bot baseline` and `bot refresh-baseline-metrics`: the seed's regression baseline."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import msgspec
import typer

from cli.apps import bot_app
from cli.baseline import build_baseline, load_baseline, metrics_of, write_baseline
from cli.run_options import REPO_ROOT, default_data_dir, parse_symbols
from machine.params import Params

DEFAULT_BASELINE = REPO_ROOT / "data" / "testnet" / "baseline.json"


@bot_app.command("baseline", context_settings={"allow_extra_args": True})
def baseline_command(
    ctx: typer.Context,
    symbols: Optional[str] = typer.Option(None, "--symbols", help="e.g. --symbols BTC/USDT ETH/USDT"),
    timeframe: str = typer.Option("1h", "--timeframe"),
    bars: int = typer.Option(180, "--bars", min=1, help="the last N bars of each symbol"),
    output: Path = typer.Option(DEFAULT_BASELINE, "--output", help="where to write baseline.json"),
    data: Optional[Path] = typer.Option(None, "--data", help="OHLCV dir (default BASELINE_OHLCV_DIR or the "
                                                             "repo's fixtures)"),
    config: Optional[Path] = typer.Option(None, "--config", help="strategy settings (default: the defaults)"),
) -> None:
    """Write candles, expected signals (decisions), stops, reasons and metrics from offline OHLCV."""
    symbol_list = parse_symbols(symbols, ctx.args)
    baseline = build_baseline(data or default_data_dir(), symbol_list, timeframe, bars, config)
    write_baseline(output, baseline)
    print(f"baseline: {len(baseline['signals'])} signals, {len(baseline['stops'])} stops, "
          f"{len(baseline['trades'])} trades over {bars} bars of {', '.join(symbol_list)} -> {output}")


@bot_app.command("refresh-baseline-metrics")
def refresh_metrics_command(
    regen: bool = typer.Option(False, "--regen", help="rebuild the whole baseline from candles first"),
    baseline: Path = typer.Option(DEFAULT_BASELINE, "--baseline", help="baseline.json to update"),
    data: Optional[Path] = typer.Option(None, "--data", help="OHLCV dir for --regen"),
) -> None:
    """Embed report_metrics (win rate, expectancy, MDD, profit factor, Sharpe) into the baseline."""
    current = load_baseline(baseline)
    if regen:
        current = build_baseline(data or default_data_dir(), current["symbols"], current.get("timeframe", "1h"),
                                 int(current.get("bars", 180)))
    params = msgspec.convert(current.get("params") or {}, Params)
    current["report_metrics"] = metrics_of(current["trades"], current.get("equity", []), params.initial_equity)
    write_baseline(baseline, current)
    shown = ", ".join(f"{k}={v}" for k, v in current["report_metrics"].items() if not k.endswith("_note"))
    print(f"report_metrics -> {baseline}: {shown}")
