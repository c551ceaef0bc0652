"""Equity-curve metrics: drawdown, MDD and daily/weekly/monthly returns.

SQL over a relation named `equity(ts, equity[, seq])`, ordered by ts and then by
seq when the relation has it (several marks can share a bar's ts), so the work
stays inside DuckDB however long the curve is.

The series' first point is the run's starting equity: the journal's `equity` view
begins with it (initial_equity in a backtest or paper run, the first wallet reading
live; the core's first mark may come only after a whole trade), and a DataFrame passed to
`report_metrics` must begin with it too (`generate_report(initial_equity=...)` and
the baseline prepend it). So start_equity / total_return / the first period's return
/ the MDD's first peak all count from where the run started.

Definitions (repeated in the README "Reports" section):
- start_equity / end_equity = the first / last point; total_return = end / start - 1;
- drawdown at a point = (running peak - equity) / running peak;
- mdd = the largest drawdown of the series (a ratio, 0.25 = 25 %);
- a period's return = its last equity / the previous period's last equity - 1;
  the first period is measured from its own first equity, the run's start. Periods
  are UTC calendar days, ISO weeks (starting Monday) and calendar months.
"""
from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from projections.report_sql import column_names, fetch_df, fetch_dicts

PERIOD_UNITS = {"daily": "day", "weekly": "week", "monthly": "month"}

_ORDERED = """
ordered AS (
    SELECT ts, equity, row_number() OVER (ORDER BY {order}) AS rn FROM equity WHERE equity IS NOT NULL
)"""

_PEAKS = _ORDERED + """, peaks AS (
    SELECT rn, ts, equity, peak, CASE WHEN peak > 0 THEN (peak - equity) / peak END AS drawdown
    FROM (SELECT rn, ts, equity, max(equity) OVER (ORDER BY rn ROWS UNBOUNDED PRECEDING) AS peak FROM ordered)
)"""

DRAWDOWN_SQL = "WITH" + _PEAKS + """
SELECT (ts // {bucket}) * {bucket} AS ts, arg_max(equity, rn) AS equity, max(peak) AS peak,
       max(drawdown) AS drawdown, count(*) AS marks
FROM peaks GROUP BY 1 ORDER BY 1
"""

MDD_SQL = "WITH" + _PEAKS + """
SELECT count(*) AS points, max(drawdown) AS mdd, first(ts ORDER BY drawdown DESC NULLS LAST, rn) AS mdd_trough_ts,
       arg_min(equity, rn) AS start_equity, arg_max(equity, rn) AS end_equity,
       count(*) FILTER (WHERE peak <= 0) AS nonpositive_peaks
FROM peaks
"""

BUCKETS_MS = (1, 60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000, 604_800_000)
"""Row granularities tried for the drawdown series, finest first: per timestamp, 1 min, ... 1 week."""

PERIOD_SQL = "WITH" + _ORDERED.replace("ordered AS (", "ordered AS MATERIALIZED (", 1) + """, periods AS (
    {per_unit}
), chained AS (
    SELECT name, period, end_equity,
           coalesce(lag(end_equity) OVER (PARTITION BY name ORDER BY period), first_equity) AS start_equity
    FROM periods
)
SELECT name, period, start_equity, end_equity, end_equity - start_equity AS change,
       CASE WHEN start_equity > 0 THEN end_equity / start_equity - 1 END AS return
FROM chained ORDER BY name, period
"""
_PER_UNIT = """SELECT '{name}' AS name, date_trunc('{unit}', epoch_ms(ts)) AS period,
           arg_min(equity, rn) AS first_equity, arg_max(equity, rn) AS end_equity
    FROM ordered GROUP BY 2"""
PERIOD_COLUMNS = ["period", "start_equity", "end_equity", "change", "return"]


def _order(con: duckdb.DuckDBPyConnection) -> str:
    columns = {c.lower() for c in column_names(con, "equity")}
    return "ts, seq" if "seq" in columns else "ts"


def drawdown_series(con: duckdb.DuckDBPyConnection, max_rows: int | None = None) -> tuple[pd.DataFrame, int]:
    """One row per timestamp (ts, last equity, running peak, drawdown, marks), and the bucket used.

    With `max_rows`, rows are per the finest bucket of BUCKETS_MS that fits: each keeps the
    bucket's last equity, its highest peak and its WORST drawdown, so the curve's troughs
    and the MDD stay visible however much it is thinned."""
    bucket = 1
    if max_rows is not None:
        counts = ", ".join(f"count(DISTINCT ts // {b}) AS b{b}" for b in BUCKETS_MS)
        found = fetch_dicts(con, f"SELECT {counts} FROM equity WHERE equity IS NOT NULL")[0]
        bucket = next((b for b in BUCKETS_MS if found[f"b{b}"] <= max_rows), BUCKETS_MS[-1])
    return fetch_df(con, DRAWDOWN_SQL.format(order=_order(con), bucket=bucket)), bucket


def equity_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """mdd (+ note when undefined), its trough time, start/end equity and total return."""
    row = fetch_dicts(con, MDD_SQL.format(order=_order(con)))[0]
    points, mdd, start, end = row["points"], row["mdd"], row["start_equity"], row["end_equity"]
    trough_ts, nonpositive = row["mdd_trough_ts"], row["nonpositive_peaks"]
    out: dict[str, Any] = {"equity_points": int(points), "start_equity": start, "end_equity": end}
    if points == 0:
        out.update(mdd=None, mdd_note="no equity series", mdd_trough_ts=None)
    elif mdd is None:
        out.update(mdd=None, mdd_note="equity never above zero", mdd_trough_ts=None)
    else:
        out.update(mdd=float(mdd), mdd_trough_ts=int(trough_ts) if mdd > 0 else None)
        if nonpositive:
            out["mdd_note"] = f"{nonpositive} points before a positive peak ignored"
    if points and start and start > 0:
        out["total_return"] = end / start - 1
    else:
        out["total_return"] = None
        out["total_return_note"] = "no equity series" if not points else "start equity not positive"
    return out


def all_period_returns(con: duckdb.DuckDBPyConnection, periods: tuple[str, ...] = tuple(PERIOD_UNITS)
                       ) -> dict[str, pd.DataFrame]:
    """period (UTC start), start_equity, end_equity, change, return per name in `periods`, in one pass."""
    per_unit = "\n    UNION ALL ".join(_PER_UNIT.format(name=n, unit=PERIOD_UNITS[n]) for n in periods)
    rows = fetch_df(con, PERIOD_SQL.format(order=_order(con), per_unit=per_unit))
    return {n: rows.loc[rows["name"] == n, PERIOD_COLUMNS].reset_index(drop=True) for n in periods}


def period_returns(con: duckdb.DuckDBPyConnection, period: str) -> pd.DataFrame:
    """Returns of one period kind: daily | weekly | monthly."""
    return all_period_returns(con, (period,))[period]
