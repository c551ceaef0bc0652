"""Expose in-memory DataFrames as the `trades` and `equity` relations the metric SQL reads.

This is how `generate_report(trades)` and `report_metrics(trades, equity)` reuse the very
same metric definitions that `bot report` runs over a journal's DuckDB views.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from journal.errors import BadInput

TRADE_COLUMNS = {
    "trade_id": "VARCHAR", "symbol": "VARCHAR", "side": "VARCHAR", "entry_ts": "BIGINT",
    "exit_ts": "BIGINT", "entry_price": "DOUBLE", "exit_price": "DOUBLE", "qty": "DOUBLE",
    "pnl": "DOUBLE", "fees": "DOUBLE", "exit_reason": "VARCHAR",
}
REQUIRED_TRADE_COLUMNS = ("side", "entry_ts", "exit_ts", "entry_price", "qty", "pnl")
EQUITY_COLUMNS = {"ts": "BIGINT", "equity": "DOUBLE"}


def _as_ms(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        naive_utc = column.dt.tz_convert(None) if column.dt.tz is not None else column
        return naive_utc.astype("datetime64[ms]").astype("int64")
    return column


def trades_frame(trades: pd.DataFrame | None) -> pd.DataFrame:
    """A copy with every `trades` view column, the optional ones defaulted; BadInput if a needed one is missing."""
    trades = pd.DataFrame(columns=list(TRADE_COLUMNS)) if trades is None else trades
    missing = [c for c in REQUIRED_TRADE_COLUMNS if c not in trades.columns]
    if missing and len(trades.columns):
        raise BadInput(f"trades: missing column(s) {', '.join(missing)}")
    frame = pd.DataFrame(index=range(len(trades)))
    for name in TRADE_COLUMNS:
        if name in trades.columns:
            frame[name] = _as_ms(trades[name]).to_numpy()
        elif name == "trade_id":
            frame[name] = [str(i + 1) for i in range(len(trades))]
        elif name == "fees":
            frame[name] = 0.0
        else:
            frame[name] = None
    return frame


def equity_frame(equity: pd.DataFrame | None) -> pd.DataFrame:
    if equity is None:
        return pd.DataFrame({"ts": pd.Series([], dtype="int64"), "equity": pd.Series([], dtype="float64"),
                             "seq": pd.Series([], dtype="int64")})
    missing = [c for c in EQUITY_COLUMNS if c not in equity.columns]
    if missing:
        raise BadInput(f"equity: missing column(s) {', '.join(missing)}")
    frame = pd.DataFrame({"ts": _as_ms(equity["ts"]).to_numpy(), "equity": equity["equity"].to_numpy()})
    # points sharing a ts keep their order: by `seq` when given, else by row order
    frame["seq"] = equity["seq"].to_numpy() if "seq" in equity.columns else range(len(frame))
    return frame


def frames_connection(trades: pd.DataFrame | None, equity: pd.DataFrame | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with typed `trades` and `equity` views over the frames."""
    con = duckdb.connect(":memory:")
    con.register("trades_input", trades_frame(trades))
    con.register("equity_input", equity_frame(equity))
    cast_trades = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in TRADE_COLUMNS.items())
    con.execute(f"CREATE VIEW trades AS SELECT {cast_trades} FROM trades_input")
    con.execute("CREATE VIEW equity AS SELECT CAST(ts AS BIGINT) AS ts, CAST(equity AS DOUBLE) AS equity, "
                "CAST(seq AS BIGINT) AS seq FROM equity_input")
    return con
