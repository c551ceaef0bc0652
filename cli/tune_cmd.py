"""`bot tune`: search the strategy's knobs on a train window, judge the best out of sample.

The trials CSV is written as trials finish, so Ctrl-C keeps them (exit 130, one line).
The OOS figures printed are reproducible with `bot backtest --config <--best-config file>
--start <oos_start> --end <oos_end>` (see cli.tune_window for the no-warm-up rule).
"""
from __future__ import annotations

import json
import shlex
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from cli.apps import bot_app
from cli.run_options import REPO_ROOT, default_data_dir, parse_symbols
from cli.tune import TuneOptions, TuneResult, prepare, run_tune
from cli.tune_objective import DEFAULT_MIN_TRADES
from cli.tune_output import TrialCsv, print_table, tune_json
from journal.errors import BadInput


@bot_app.command(
    "tune",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": False},
    help="Train/test tuning of donchian_len, atr_stop_k, atr_trail_k, risk_pct (grid or seeded random), "
         "in local processes or on a dask.distributed cluster.",
)
def tune(
    ctx: typer.Context,
    data: Optional[Path] = typer.Option(None, "--data", help="DIR/<timeframe>/<BASE>_<QUOTE>.parquet|csv"),
    days: int = typer.Option(365, "--days", help="train window length (days before the OOS window)"),
    oos_days: int = typer.Option(90, "--oos-days", help="out-of-sample window: the last N days of the data"),
    grid: Optional[Path] = typer.Option(None, "--grid", help='JSON {"donchian_len": [..], "atr_stop_k": [..], ...}'),
    workers: int = typer.Option(1, "--workers", help="local worker processes (1 = this process)"),
    dask: Optional[str] = typer.Option(None, "--dask", help="dask.distributed scheduler, e.g. tcp://host:8786"),
    as_json: bool = typer.Option(False, "--json", help="print the result as one JSON object"),
    symbols: Optional[str] = typer.Option(None, "--symbols", help="e.g. --symbols BTC/USDT ETH/USDT"),
    timeframe: str = typer.Option("1h", "--timeframe"),
    search: str = typer.Option("grid", "--search", help="grid (every combination) or random"),
    trials: Optional[int] = typer.Option(None, "--trials", help="random search: how many combinations (20)"),
    seed: int = typer.Option(0, "--seed", help="random search: RNG seed"),
    out: Optional[Path] = typer.Option(None, "--out", help="trials CSV (default data/tune/tune-<window>.csv)"),
    min_trades: int = typer.Option(DEFAULT_MIN_TRADES, "--min-trades", help="fewer train trades = unscored"),
    config: Optional[Path] = typer.Option(None, "--config", help="base config JSON (untuned keys)"),
    best_config: Optional[Path] = typer.Option(None, "--best-config", help="write the best params as a config"),
) -> None:
    if search not in ("grid", "random"):
        raise BadInput(f"--search {search!r}: expected grid or random")
    if trials is not None and search != "random":
        raise BadInput("--trials applies to --search random only")
    data_dir = data if data is not None else default_data_dir()
    options = TuneOptions(
        data_dir=data_dir, symbols=parse_symbols(symbols, ctx.args), timeframe=timeframe, days=days,
        oos_days=oos_days, grid_path=grid, search=search, trials=trials, seed=seed, workers=workers,
        dask_address=dask, min_trades=min_trades, config_path=config)
    if workers < 1:
        raise BadInput(f"--workers {workers}: must be at least 1")
    if dask and workers != 1:
        raise BadInput("--workers and --dask exclude each other: with --dask the cluster's workers run the trials")
    result = prepare(options)
    w = result.windows.as_dict()
    csv_path = out if out is not None else (
        REPO_ROOT / "data" / "tune" / f"tune-{w['train_start'][:10]}-{w['oos_end'][:10]}.csv")
    if csv_path.exists() and csv_path.is_dir():
        raise BadInput(f"--out {csv_path}: is a directory")
    try:
        trial_csv = TrialCsv(csv_path, result)
    except OSError as exc:
        raise BadInput(f"--out {csv_path}: cannot write ({exc.strerror or type(exc).__name__})") from None
    try:
        with _progress(len(result.trials), show=sys.stderr.isatty() and not as_json) as advance:
            def on_trial(trial, metrics) -> None:
                trial_csv.append(trial, metrics)
                advance()

            run_tune(options, on_trial=on_trial, result=result)
    except KeyboardInterrupt:
        result.interrupted = True
    except BadInput:
        trial_csv.discard_if_empty()  # e.g. an unreachable --dask scheduler: no half-made CSV
        raise
    trial_csv.finish()
    if result.interrupted:
        print(f"bot: interrupted: {len(result.metrics)}/{len(result.trials)} trials finished, kept in {csv_path}",
              file=sys.stderr)
        sys.exit(130)  # not typer.Exit(130): typer returns that like a bare Ctrl-C, which main reports as "aborted"
    extra: dict[str, Any] = {"oos_backtest": _backtest_hint(options, result, best_config)}
    if best_config is not None and result.best is not None:
        try:
            best_config.parent.mkdir(parents=True, exist_ok=True)
            best_config.write_text(json.dumps(result.best_config(), indent=2) + "\n")
        except OSError as exc:
            raise BadInput(f"--best-config {best_config}: cannot write ({exc.strerror or type(exc).__name__})"
                           ) from None
        extra["best_config"] = str(best_config)
    if as_json:
        print(json.dumps(tune_json(result, csv_path, extra)))
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    print_table(result, console)
    console.print(f"trials: {csv_path}", soft_wrap=True)
    if extra["oos_backtest"]:
        console.print(f"reproduce the OOS run: {extra['oos_backtest']}", soft_wrap=True)


def _backtest_hint(options: TuneOptions, result: TuneResult, best_config: Path | None) -> str | None:
    """The `bot backtest` command whose figures equal the OOS figures (when the best params are saved)."""
    if result.best is None or best_config is None:
        return None
    w = result.windows.as_dict()
    parts = ["bot", "backtest", "--data", str(options.data_dir), "--symbols", *options.symbols,
             "--timeframe", options.timeframe, "--start", w["oos_start"], "--end", w["oos_end"],
             "--config", str(best_config)]
    return " ".join(shlex.quote(p) for p in parts)


def _progress(total: int, show: bool):
    """A context giving `advance()`: a rich bar over trials on a TTY, nothing otherwise.

    No auto-refresh thread: the bar redraws when a trial finishes (so forking workers is safe)."""
    if not show:
        return nullcontext(lambda: None)
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar():
        with Progress(TextColumn("tune"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), auto_refresh=False, transient=True) as progress:
            task = progress.add_task("trials", total=total)

            def advance() -> None:
                progress.advance(task)
                progress.refresh()

            progress.refresh()
            yield advance

    return bar()
