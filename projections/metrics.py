"""Trade metrics, each defined exactly once.

The aggregates are SQL over a relation named `trades` (the projection view, or a
DataFrame registered under that name), so the same definitions serve a 1M-event
journal and a hand-built test frame. The ratios are then derived in Python from
those aggregates, where an undefined ratio becomes None plus a `<key>_note` that
says why (never inf or NaN).

Definitions (the README "Reports" section repeats them):
- a win is a trade with pnl > 0; a loss is pnl <= 0 (pnl is net of fees);
- win_rate = wins / trades;
- rrr (payoff ratio) = avg win / |avg loss|;
- expectancy = win_rate * avg win - loss_rate * |avg loss| (net pnl per trade);
- profit_factor = gross profit / gross loss (gross loss = -sum of pnl of losses);
- sharpe = mean / std (ddof=1) of per-trade returns, no annualisation, where a
  trade's return = pnl / (entry_price * qty), its net pnl over its entry notional;
- avg_holding_s = mean of (exit_ts - entry_ts) / 1000.
"""
from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from projections.metrics_equity import equity_summary
from projections.metrics_frames import frames_connection
from projections.report_sql import fetch_dicts

GROUP_STATS_SQL = """
SELECT {keys},
       count(*)                                         AS trades,
       count(*) FILTER (WHERE pnl > 0)                  AS wins,
       count(*) FILTER (WHERE pnl <= 0)                 AS losses,
       coalesce(sum(pnl) FILTER (WHERE pnl > 0), 0)     AS gross_profit,
       coalesce(-sum(pnl) FILTER (WHERE pnl <= 0), 0)   AS gross_loss,
       avg(pnl) FILTER (WHERE pnl > 0)                  AS avg_win,
       avg(pnl) FILTER (WHERE pnl <= 0)                 AS avg_loss,
       coalesce(sum(pnl), 0)                            AS net_pnl,
       coalesce(sum(fees), 0)                           AS fees,
       avg(pnl / nullif(entry_price * qty, 0))          AS mean_return,
       stddev_samp(pnl / nullif(entry_price * qty, 0))  AS std_return,
       avg((exit_ts - entry_ts) / 1000.0)               AS avg_holding_s
FROM trades
GROUP BY ALL
ORDER BY {order}
"""

EXIT_DAY = "strftime(epoch_ms(exit_ts), '%Y-%m-%d')"
"""SQL for a trade's UTC exit day (trades are booked on the day they close)."""

STREAKS_SQL = """
WITH ordered AS (
    SELECT pnl > 0 AS win, row_number() OVER (ORDER BY exit_ts, entry_ts, trade_id) AS rn
    FROM trades
), runs AS (
    SELECT win, rn - row_number() OVER (PARTITION BY win ORDER BY rn) AS run_id FROM ordered
)
SELECT win, max(n) AS longest FROM (SELECT win, run_id, count(*) AS n FROM runs GROUP BY win, run_id) GROUP BY win
"""

BREAKDOWN_KEYS = ("trades", "win_rate", "expectancy", "profit_factor", "net_pnl")


def _defined(out: dict[str, Any], key: str, value: float | None, note: str) -> None:
    """Store a metric, or None plus `<key>_note` saying why it is undefined."""
    out[key] = None if value is None else float(value)
    if value is None:
        out[f"{key}_note"] = note


def ratios(agg: dict[str, Any]) -> dict[str, Any]:
    """Derive every per-group metric from one row of GROUP_STATS_SQL."""
    n, wins, losses = int(agg["trades"]), int(agg["wins"]), int(agg["losses"])
    avg_win, avg_loss = agg["avg_win"], agg["avg_loss"]
    gross_profit, gross_loss = float(agg["gross_profit"]), float(agg["gross_loss"])
    loss_size = abs(avg_loss) if avg_loss is not None else 0.0
    out: dict[str, Any] = {"trades": n, "wins": wins, "losses": losses}
    _defined(out, "win_rate", wins / n if n else None, "no trades")
    _defined(out, "expectancy", wins / n * (avg_win or 0.0) - losses / n * loss_size if n else None, "no trades")
    rrr_note = ("no trades" if n == 0 else "no winning trades" if wins == 0 else "no losing trades"
                if losses == 0 else "average loss is zero")
    _defined(out, "rrr", avg_win / loss_size if wins and losses and loss_size else None, rrr_note)
    pf_note = "no trades" if n == 0 else "no losing trades" if losses == 0 else "gross loss is zero"
    _defined(out, "profit_factor", gross_profit / gross_loss if gross_loss else None, pf_note)
    _defined(out, "sharpe", *_sharpe(n, agg["mean_return"], agg["std_return"]))
    _defined(out, "avg_win", avg_win, "no winning trades")
    _defined(out, "avg_loss", avg_loss, "no losing trades")
    out["gross_profit"], out["gross_loss"] = gross_profit, gross_loss
    out["net_pnl"], out["fees"] = float(agg["net_pnl"]), float(agg["fees"])
    _defined(out, "avg_holding_s", agg["avg_holding_s"], "no trades")
    return out


def _sharpe(n: int, mean: float | None, std: float | None) -> tuple[float | None, str]:
    if n < 2 or mean is None or std is None:
        return None, "fewer than 2 trades"
    if std == 0:
        return None, "per-trade returns have zero spread"
    return float(mean) / float(std), ""


def group_stats(con: duckdb.DuckDBPyConnection, key: str | None = None) -> dict[str, dict[str, Any]]:
    """Metrics per value of `key` (a trades column such as side or symbol); key None = all trades."""
    rows = fetch_dicts(con, GROUP_STATS_SQL.format(keys=f"{key or repr('all')} AS grp", order="grp"))
    if key is None and not rows:
        rows = [_empty_aggregate()]
    return {str(row["grp"]): ratios(row) for row in rows}


def grouped_frame(con: duckdb.DuckDBPyConnection, keys: dict[str, str]) -> pd.DataFrame:
    """Every metric per combination of `keys` (output column name -> SQL over trades), one row each."""
    select = ", ".join(f"{expr} AS {name}" for name, expr in keys.items())
    rows = fetch_dicts(con, GROUP_STATS_SQL.format(keys=select, order=", ".join(keys)))
    table = [{**{k: row[k] for k in keys}, **ratios(row)} for row in rows]
    return pd.DataFrame(table, columns=[*keys, *ratios(_empty_aggregate())])  # every metric and note column


def _empty_aggregate() -> dict[str, Any]:
    return {"grp": "all", "trades": 0, "wins": 0, "losses": 0, "gross_profit": 0.0, "gross_loss": 0.0,
            "avg_win": None, "avg_loss": None, "net_pnl": 0.0, "fees": 0.0, "mean_return": None,
            "std_return": None, "avg_holding_s": None}


def streaks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Longest run of consecutive wins and of consecutive losses, in exit order."""
    found = {row["win"]: row["longest"] for row in fetch_dicts(con, STREAKS_SQL)}
    return {"max_win_streak": int(found.get(True, 0)), "max_loss_streak": int(found.get(False, 0))}


def side_breakdown(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Long/short: trades, win_rate, expectancy, profit_factor (+ notes), for both sides always."""
    stats = group_stats(con, "side")
    empty = ratios(_empty_aggregate())
    return {side: _subset(stats.get(side, empty)) for side in ("long", "short")}


def _subset(metrics: dict[str, Any]) -> dict[str, Any]:
    keep = set(BREAKDOWN_KEYS) | {f"{k}_note" for k in BREAKDOWN_KEYS}
    return {k: v for k, v in metrics.items() if k in keep}


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every headline metric of the `trades` and `equity` relations, flat, plus long/short nested."""
    out = dict(group_stats(con)["all"])
    out.update(streaks(con))
    out.update(equity_summary(con))
    out.update(side_breakdown(con))
    return out


def report_metrics(trades_df: pd.DataFrame | None, equity_df: pd.DataFrame | None = None) -> dict[str, Any]:
    """The baseline workflow's metrics (win_rate, expectancy, mdd, profit_factor, sharpe, ...) of two frames.

    trades_df has the `trades` view's columns; equity_df has ts, equity (optional: without it
    mdd is None with a note)."""
    con = frames_connection(trades_df, equity_df)
    try:
        return summary(con)
    finally:
        con.close()
