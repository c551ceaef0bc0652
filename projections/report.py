"""The performance report: everything `bot report` prints, saves as Excel or writes as CSV.

Seed API kept: `generate_report(trades) -> pd.DataFrame` (one row of metrics) and
`save_report(df, path)` (Excel, index=False). `build_report(con)` gathers the full report
from any connection exposing `trades` and `equity` relations; `load_report(journal_dir)`
does so over a journal's DuckDB projection.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from journal.errors import BadInput
from projections.metrics import group_stats, summary
from projections.metrics_equity import all_period_returns, drawdown_series
from projections.metrics_frames import frames_connection, trades_frame
from projections.report_sql import fetch_df

TRADES_SQL = """
SELECT trade_id, symbol, side, epoch_ms(entry_ts) AS entry_time, epoch_ms(exit_ts) AS exit_time,
       entry_ts, exit_ts, entry_price, exit_price, qty, pnl, fees, exit_reason,
       (exit_ts - entry_ts) / 1000.0 AS holding_s, pnl / nullif(entry_price * qty, 0) AS return
FROM trades ORDER BY exit_ts, entry_ts, trade_id
"""


@dataclass(frozen=True)
class Report:
    metrics: dict[str, Any]            # flat headline metrics + notes, with nested "long"/"short"
    by_symbol: dict[str, dict[str, Any]]
    returns: dict[str, pd.DataFrame]   # daily / weekly / monthly
    trades: pd.DataFrame
    equity: pd.DataFrame               # ts, equity, peak, drawdown, marks (per equity_bucket_ms)
    equity_bucket_ms: int = 1          # 1 = one row per timestamp; larger = thinned for the workbook


EQUITY_SHEET_ROWS = 20_000
"""Most rows of the drawdown series kept in a report (Excel stays quick to write and open)."""


def build_report(con: duckdb.DuckDBPyConnection, max_equity_rows: int | None = EQUITY_SHEET_ROWS,
                 tables: bool = True) -> Report:
    """Compute the whole report from the `trades` and `equity` relations of `con`.

    tables=False skips the trade list and the drawdown series (only the workbook shows them)."""
    equity, bucket = drawdown_series(con, max_equity_rows) if tables else (pd.DataFrame(), 1)
    return Report(
        metrics=summary(con),
        by_symbol=group_stats(con, "symbol"),
        returns=all_period_returns(con),
        trades=fetch_df(con, TRADES_SQL) if tables else pd.DataFrame(),
        equity=equity,
        equity_bucket_ms=bucket,
    )


def load_report(journal_dir: str | Path) -> Report:
    """The report of a journal, read through its DuckDB projection."""
    from projections import db  # the projection helper's module; imported late to keep this one light

    con = db.connect(journal_dir)
    try:
        return build_report(con)
    finally:
        con.close()


def flat_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Nested long/short dicts become long_* / short_* keys (one row, one column per metric)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def clean(value: Any) -> Any:
    """JSON/Excel-safe scalar: NaN, inf and pandas NA become None; numpy scalars become Python ones."""
    if value is None or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def generate_report(trades: pd.DataFrame | None, equity: pd.DataFrame | None = None,
                    initial_equity: float | None = None) -> pd.DataFrame:
    """One-row DataFrame of every metric (seed API).

    Without `equity`, an equity curve is rebuilt as initial_equity + cumulative net pnl in
    exit order when `initial_equity` is given; otherwise mdd is None with a note."""
    if equity is None and initial_equity is not None:
        equity = _equity_from_trades(trades_frame(trades), initial_equity)
    con = frames_connection(trades, equity)
    try:
        metrics = flat_metrics(summary(con))
    finally:
        con.close()
    return pd.DataFrame([{k: clean(v) for k, v in metrics.items()}])


def _equity_from_trades(trades: pd.DataFrame, initial_equity: float) -> pd.DataFrame:
    ordered = trades.sort_values(["exit_ts", "entry_ts"], kind="stable")
    start_ts = int(ordered["entry_ts"].min()) if len(ordered) else 0
    ts = [start_ts, *ordered["exit_ts"].astype("int64").tolist()]
    values = [initial_equity, *(initial_equity + ordered["pnl"].astype(float).cumsum()).tolist()]
    return pd.DataFrame({"ts": ts, "equity": values, "seq": range(len(ts))})


def save_report(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a report DataFrame to Excel with index=False (seed API); NaN/inf cells are left empty."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BadInput(f"{path}: report file must end in .xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = df.astype(object).map(clean)
    safe.to_excel(path, index=False, sheet_name="metrics", engine="openpyxl")
    return path


def json_column(column: pd.Series) -> list[Any]:
    """A column as JSON-safe values, in bulk: NaN/inf -> None, timestamps -> ISO-8601 UTC
    (a date alone when every value is midnight, as period starts are)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        at_midnight = bool((column.dropna() == column.dropna().dt.normalize()).all())
        text = column.dt.strftime("%Y-%m-%d" if at_midnight else "%Y-%m-%dT%H:%M:%SZ")
        return [None if pd.isna(v) else v for v in text]
    if pd.api.types.is_float_dtype(column):
        return [float(v) if math.isfinite(v) else None for v in column.to_numpy(dtype="float64")]
    if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column.tolist()
    return [clean(v) for v in column]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts."""
    columns = {name: json_column(frame[name]) for name in frame.columns}
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def report_json(report: Report) -> dict[str, Any]:
    """The `bot report --json` document: flat snake_case metrics, long/short, by_symbol and returns."""
    doc = {k: ({kk: clean(vv) for kk, vv in v.items()} if isinstance(v, dict) else clean(v))
           for k, v in report.metrics.items()}
    doc["by_symbol"] = {sym: {k: clean(v) for k, v in m.items()} for sym, m in report.by_symbol.items()}
    doc["returns"] = {name: records(frame) for name, frame in report.returns.items()}
    return doc
