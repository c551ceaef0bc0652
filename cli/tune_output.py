"""What `bot tune` writes: the trials CSV (streamed as trials finish), the rich table and the JSON document."""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from cli.tune import TuneResult
from cli.tune_space import TUNED_KEYS, Trial


def clean(value: Any) -> Any:
    """projections.report.clean, imported on use: pandas costs every `bot` command 0.25 s at start-up."""
    from projections.report import clean as report_clean

    return report_clean(value)

METRIC_COLUMNS = ("trades", "win_rate", "expectancy", "profit_factor", "sharpe", "mdd", "total_return", "net_pnl")
CSV_COLUMNS = ("trial", "rank", "score", *TUNED_KEYS, *METRIC_COLUMNS)
SHOWN_ROWS = 10


def trial_row(trial: Trial, metrics: dict[str, Any], values: dict[str, Any], rank: int | None = None,
              trial_score: float | None = None) -> dict[str, Any]:
    """One CSV row: the tuned values actually used (base config where the grid leaves a key out)."""
    row: dict[str, Any] = {"trial": trial.index, "rank": rank, "score": trial_score}
    row.update({key: values[key] for key in TUNED_KEYS})
    row.update({key: clean(metrics.get(key)) for key in METRIC_COLUMNS})
    return row


def tuned_values(result: TuneResult, trial: Trial) -> dict[str, Any]:
    params = result.params_of(trial)
    return {key: getattr(params, key) for key in TUNED_KEYS}


class TrialCsv:
    """Appends each finished trial at once (a crash or Ctrl-C keeps them), then rewrites it ranked."""

    def __init__(self, path: Path, result: TuneResult) -> None:
        self.path = path
        self.result = result
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = path.open("w", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=CSV_COLUMNS)
        self._writer.writeheader()
        self._file.flush()

    def append(self, trial: Trial, metrics: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._writer.writerow(trial_row(trial, metrics, tuned_values(self.result, trial)))
        self._file.flush()

    def discard_if_empty(self) -> None:
        """Close, and remove the file when no trial finished (nothing worth keeping)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self.result.metrics:
            self.path.unlink(missing_ok=True)

    def finish(self) -> Path:
        """Every finished trial in rank order, with rank and score (atomic replace)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        scores = self.result.scores
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for rank, index in enumerate(self.result.order, 1):
                trial = self.result.trials[index]
                writer.writerow(trial_row(trial, self.result.metrics[index], tuned_values(self.result, trial),
                                          rank, scores[index]))
        os.replace(tmp, self.path)
        return self.path


def _num(value: Any, percent: bool = False) -> str:
    value = clean(value)
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2%}" if percent else f"{value:,.4g}"
    return str(value)


def print_table(result: TuneResult, console: Console) -> None:
    """The best SHOWN_ROWS trials on the train window, then the chosen one on both windows."""
    w = result.windows.as_dict()
    table = Table(title=f"bot tune: train {w['train_start']} .. {w['train_end']} "
                        f"({len(result.metrics)}/{len(result.trials)} trials)")
    for name in ("rank", "trial", "score", *TUNED_KEYS, "trades", "win_rate", "total_return", "mdd"):
        table.add_column(name, justify="right")
    scores = result.scores
    for rank, index in enumerate(result.order[:SHOWN_ROWS], 1):
        trial, m = result.trials[index], result.metrics[index]
        values = tuned_values(result, trial)
        table.add_row(str(rank), str(index), _num(scores[index]), *(_num(values[k]) for k in TUNED_KEYS),
                      _num(m.get("trades")), _num(m.get("win_rate"), True), _num(m.get("total_return"), True),
                      _num(m.get("mdd"), True))
    console.print(table)
    console.print(f"objective: {result.objective}")
    best = result.best
    if best is None:
        console.print(f"no trial reached {result.min_trades} trades: nothing to evaluate out of sample")
        return
    oos, train = result.oos or {}, result.metrics[best.index]
    console.print(f"best: trial {best.index} {tuned_values(result, best)}")
    for label, m in (("train", train), (f"OOS {w['oos_start']} .. {w['oos_end']}", oos)):
        console.print(f"  {label}: trades {_num(m.get('trades'))}, win_rate {_num(m.get('win_rate'), True)}, "
                      f"expectancy {_num(m.get('expectancy'))}, profit_factor {_num(m.get('profit_factor'))}, "
                      f"total_return {_num(m.get('total_return'), True)}, mdd {_num(m.get('mdd'), True)}, "
                      f"sharpe {_num(m.get('sharpe'))}", soft_wrap=True)


def _clean_metrics(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    if metrics is None:
        return None
    return {k: ({kk: clean(vv) for kk, vv in v.items()} if isinstance(v, dict) else clean(v))
            for k, v in metrics.items()}


def tune_json(result: TuneResult, csv_path: Path, extra: dict[str, Any]) -> dict[str, Any]:
    """The `--json` document: windows, objective, best (train + OOS metrics) and where the CSV is."""
    best = result.best
    doc: dict[str, Any] = {
        "windows": result.windows.as_dict(), "objective": result.objective, "min_trades": result.min_trades,
        "trials": len(result.trials), "finished": len(result.metrics), "interrupted": result.interrupted,
        "csv": str(csv_path), **extra,
    }
    if best is not None:
        doc["best"] = {"trial": best.index, "params": tuned_values(result, best),
                       "score": result.scores[best.index], "train": _clean_metrics(result.metrics[best.index])}
    else:
        doc["best"] = None
    doc["oos"] = _clean_metrics(result.oos)
    return doc
