"""The seed's CSV logs and performance summaries, written from the projection views.

Under `OUT/<env>/` (env = the journal's session mode: backtest, paper, live, testnet),
as the seed's Reporter wrote under `data/<env>/`:
  trades.csv, exits.csv, signal_analysis.csv, filtered_signals.csv, detailed_entries.csv  (logs)
  performance_by_day.csv, performance_by_symbol.csv, performance_by_day_symbol.csv      (by exit day, UTC)
  daily_report.csv (equity change per UTC day beside that day's closed trades)
  returns_daily.csv, returns_weekly.csv, returns_monthly.csv
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from journal.errors import BadInput
from projections.metrics import EXIT_DAY, grouped_frame
from projections.metrics_equity import all_period_returns
from projections.report_sql import fetch_df, fetch_dicts

_ISO = "strftime(epoch_ms({col}), '%Y-%m-%dT%H:%M:%SZ')"

LOG_QUERIES = {
    "trades": f"""
        SELECT trade_id, symbol, side, {_ISO.format(col='entry_ts')} AS entry_time,
               {_ISO.format(col='exit_ts')} AS exit_time, entry_ts, exit_ts, entry_price, exit_price, qty,
               pnl, fees, pnl / nullif(entry_price * qty, 0) AS return, (exit_ts - entry_ts) / 1000.0 AS holding_s,
               exit_reason
        FROM trades ORDER BY exit_ts, entry_ts, trade_id""",
    # the stop in force when the trade closed: the last stop set for the symbol at or before its exit
    "exits": f"""
        SELECT {_ISO.format(col='t.exit_ts')} AS exit_time, t.exit_ts, t.symbol, t.side, t.trade_id,
               t.exit_reason, t.exit_price, t.qty, t.pnl, t.fees, s.stop_price AS last_stop,
               s.reason AS last_stop_reason, (t.exit_ts - t.entry_ts) / 1000.0 AS holding_s
        FROM trades t ASOF LEFT JOIN stops s ON t.symbol = s.symbol AND t.exit_ts >= s.ts
        ORDER BY t.exit_ts, t.trade_id""",
    # breakout_atr: how far the close broke the channel, in ATRs (positive = beyond the channel)
    "signal_analysis": f"""
        SELECT {_ISO.format(col='ts')} AS time, ts, seq, symbol, side,
               CASE WHEN accepted THEN 'accepted' ELSE 'filtered' END AS status, filter_reason,
               close, channel_high, channel_low, atr,
               CASE WHEN side = 'long' THEN close - channel_high ELSE channel_low - close END
                   / nullif(atr, 0) AS breakout_atr,
               (channel_high - channel_low) / nullif(atr, 0) AS channel_width_atr
        FROM signals ORDER BY seq""",
    "filtered_signals": f"""
        SELECT {_ISO.format(col='ts')} AS time, ts, seq, symbol, side, filter_reason AS reason,
               close, channel_high, channel_low, atr
        FROM signals WHERE NOT accepted ORDER BY seq""",
    # each plan beside its own entry order (the first one decided with it: same symbol and bar, next seq)
    # and that order's fills; slippage vs the plan's price. A plan whose order never filled has no fill.
    "detailed_entries": f"""
        WITH entry_orders AS (
            SELECT client_id, symbol, ts, seq AS order_seq, status AS order_status FROM orders
            WHERE purpose = 'entry'
        ), entry_fills AS (
            SELECT client_id, min(ts) AS fill_ts, sum(qty) AS filled_qty,
                   sum(qty * price) / nullif(sum(qty), 0) AS fill_price, sum(fee) AS fill_fee
            FROM fills WHERE purpose = 'entry' GROUP BY client_id
        )
        SELECT {_ISO.format(col='e.ts')} AS time, e.ts, e.seq, e.symbol, e.side, e.qty, e.ref_price,
               e.stop_price, e.atr, abs(e.ref_price - e.stop_price) / nullif(e.atr, 0) AS stop_atr,
               e.risk_amount, e.risk_amount / nullif(e.equity, 0) AS risk_pct, e.notional, e.equity,
               o.client_id, o.order_status, f.fill_ts, f.filled_qty, f.fill_price, f.fill_fee,
               (f.fill_price - e.ref_price) / nullif(e.ref_price, 0) * 1e4
                   * CASE WHEN e.side = 'long' THEN 1 ELSE -1 END AS slippage_bps
        FROM entries e
        ASOF LEFT JOIN entry_orders o ON e.symbol = o.symbol AND e.ts = o.ts AND e.seq <= o.order_seq
        LEFT JOIN entry_fills f ON f.client_id = o.client_id
        ORDER BY e.seq""",
}

SUMMARY_KEYS = {
    "performance_by_day": {"day": EXIT_DAY},
    "performance_by_symbol": {"symbol": "symbol"},
    "performance_by_day_symbol": {"day": EXIT_DAY, "symbol": "symbol"},
}


def environment(con: duckdb.DuckDBPyConnection) -> str:
    """The last session's mode (backtest, paper, live, testnet); 'unknown' without a session."""
    try:
        rows = fetch_dicts(con, "SELECT mode FROM sessions ORDER BY seq DESC LIMIT 1")
    except duckdb.CatalogException:
        rows = []
    mode = str(rows[0]["mode"]) if rows and rows[0]["mode"] else "unknown"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", mode)


def daily_report(con: duckdb.DuckDBPyConnection, returns: pd.DataFrame) -> pd.DataFrame:
    """Per UTC day (`returns`: the daily returns): start/end equity and return beside that
    day's trades, wins and net pnl."""
    returns = returns.assign(day=returns["period"].dt.strftime("%Y-%m-%d")).drop(columns="period")
    trades = grouped_frame(con, {"day": EXIT_DAY})[["day", "trades", "wins", "losses", "net_pnl", "fees"]]
    merged = returns.merge(trades, on="day", how="outer").sort_values("day", kind="stable")
    counts = ["trades", "wins", "losses"]
    merged[counts] = merged[counts].fillna(0).astype("int64")
    merged[["net_pnl", "fees"]] = merged[["net_pnl", "fees"]].fillna(0.0)
    return merged[["day", "start_equity", "end_equity", "change", "return", *counts, "net_pnl", "fees"]]


def csv_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Every CSV file's rows, by file stem."""
    tables = {name: fetch_df(con, sql) for name, sql in LOG_QUERIES.items()}
    tables.update({name: grouped_frame(con, keys) for name, keys in SUMMARY_KEYS.items()})
    returns = all_period_returns(con)
    tables["daily_report"] = daily_report(con, returns["daily"])
    for name, frame in returns.items():
        tables[f"returns_{name}"] = frame.assign(period=frame["period"].dt.strftime("%Y-%m-%d"))
    return tables


def write_csv_logs(con: duckdb.DuckDBPyConnection, out_dir: str | Path) -> list[Path]:
    """Write every CSV under OUT/<env>/ and return their paths."""
    target = Path(out_dir) / environment(con)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"{target}: cannot create CSV directory ({exc.strerror or exc})") from exc
    written = []
    for name, frame in csv_tables(con).items():
        path = target / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    return written
