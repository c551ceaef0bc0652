"""Run one report query to completion (DuckDB refuses new work while a result is half-read)."""
from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Every row of `sql` as a dict keyed by column name."""
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def fetch_df(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def column_names(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    result = con.execute(f"SELECT * FROM {relation} LIMIT 0")
    names = [d[0] for d in result.description]
    result.fetchall()
    return names
