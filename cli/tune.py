"""Train/test tuning (the seed's run_from_config / run_train_test), as a plain function.

`run_tune(options)` validates the data, splits it (`cli.tune_window`), runs every trial
of the search space (`cli.tune_space`) on the train window through an executor
(`cli.tune_exec`), ranks them (`cli.tune_objective`) and backtests the best on the
out-of-sample window with the same trial function. A Ctrl-C during the trials returns
what finished, marked `interrupted`, with no OOS run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import msgspec

from cli.run_options import load_run_config
from cli.tune_exec import TrialBatch, run_trials
from cli.tune_objective import DEFAULT_MIN_TRADES, OBJECTIVE, ranked, score
from cli.tune_space import Trial, build_trials, check_trials, load_grid
from cli.tune_trial import encode_candles, trial_metrics
from cli.tune_window import Windows, split_windows, window_candles
from journal.errors import BadInput
from machine.params import Params


@dataclass(frozen=True)
class TuneOptions:
    data_dir: Path
    symbols: tuple[str, ...]
    timeframe: str = "1h"
    days: int = 365
    oos_days: int = 90
    grid_path: Path | None = None
    search: str = "grid"
    trials: int | None = None
    seed: int = 0
    workers: int = 1
    dask_address: str | None = None
    min_trades: int = DEFAULT_MIN_TRADES
    config_path: Path | None = None


@dataclass
class TuneResult:
    windows: Windows
    trials: list[Trial]
    base_params: Params
    base_settings: dict[str, Any]
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)  # finished trials only
    interrupted: bool = False
    oos: dict[str, Any] | None = None
    min_trades: int = DEFAULT_MIN_TRADES
    objective: str = OBJECTIVE

    @property
    def scores(self) -> dict[int, float | None]:
        return {i: score(m, self.min_trades) for i, m in self.metrics.items()}

    @property
    def order(self) -> list[int]:
        return ranked(self.scores)

    @property
    def best(self) -> Trial | None:
        """The top-ranked trial, if it has a score (enough trades)."""
        order, scores = self.order, self.scores
        if not order or scores[order[0]] is None:
            return None
        return self.trials[order[0]]

    def params_of(self, trial: Trial) -> Params:
        return msgspec.structs.replace(self.base_params, **trial.values)

    def best_config(self) -> dict[str, Any]:
        """A config file (no secrets) that makes `bot backtest --config` run the best params."""
        if self.best is None:
            raise BadInput("no trial reached the minimum trade count: nothing to write")
        return {**self.base_settings, **self.best.values}


OnTrial = Callable[[Trial, dict[str, Any]], None]


def prepare(options: TuneOptions) -> TuneResult:
    """Everything that can be bad input, checked before any trial runs."""
    if options.min_trades < 0:
        raise BadInput(f"--min-trades {options.min_trades}: must be >= 0")
    run_config = load_run_config(options.config_path, options.timeframe, use_env=False)
    grid = load_grid(options.grid_path)
    trials = build_trials(grid, options.search, options.trials, options.seed)
    check_trials(run_config.config, trials, f"--grid {options.grid_path}" if options.grid_path else "default grid")
    windows = split_windows(options.data_dir, options.symbols, options.timeframe, options.days, options.oos_days)
    settings = run_config.config.public_settings()
    return TuneResult(windows=windows, trials=trials, base_params=run_config.params, base_settings=settings,
                      min_trades=options.min_trades)


def run_tune(options: TuneOptions, on_trial: OnTrial | None = None, result: TuneResult | None = None
             ) -> TuneResult:
    """Search on the train window, then the best on the OOS window (skipped when interrupted)."""
    result = result if result is not None else prepare(options)
    w = result.windows
    train = window_candles(options.data_dir, options.symbols, options.timeframe, w.train_start, w.oos_start)
    batch = TrialBatch(params={t.index: result.params_of(t) for t in result.trials}, blob=encode_candles(train),
                       symbols=options.symbols, timeframe=options.timeframe)

    def done(index: int, metrics: dict[str, Any]) -> None:
        result.metrics[index] = metrics
        if on_trial is not None:
            on_trial(result.trials[index], metrics)

    try:
        run_trials(batch, done, workers=options.workers, dask_address=options.dask_address)
    except KeyboardInterrupt:
        result.interrupted = True
        return result
    if result.best is not None:
        oos = window_candles(options.data_dir, options.symbols, options.timeframe, w.oos_start, w.end)
        result.oos = trial_metrics(result.params_of(result.best), oos, options.symbols, options.timeframe)
    return result
