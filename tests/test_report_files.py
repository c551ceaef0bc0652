"""`bot report --xlsx/--csv`: the workbook read back with openpyxl, the CSV logs read back with pandas."""
import math
from collections import defaultdict
from datetime import datetime, timezone

import openpyxl
import pandas as pd
import pytest

from conftest_report import run_bot, write_report_journal
from projections.db import query_df

SHEETS = ["metrics", "trades", "equity", "daily", "weekly", "monthly", "by_symbol", "long_short", "charts"]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("files")
    journal = write_report_journal(base / "journal", bars=600)
    done = run_bot("report", "--journal", journal, "--xlsx", base / "out" / "report.xlsx", "--csv", base / "data")
    assert done.returncode == 0, done.stderr
    return journal, base / "out" / "report.xlsx", base / "data" / "backtest"


def test_workbook_sheets_headers_and_charts(outputs):
    journal, xlsx, _ = outputs
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == SHEETS
    assert [c.value for c in wb["metrics"][1]] == ["metric", "value", "note"]
    assert [c.value for c in wb["trades"][1]][:3] == ["trade_id", "symbol", "side"]
    assert [c.value for c in wb["monthly"][1]] == ["period", "start_equity", "end_equity", "change", "return"]
    for name in SHEETS[:-1]:
        header = [c.value for c in wb[name][1]]
        assert all(isinstance(h, str) and h for h in header), name  # a clean header, no index column
        assert header[0] not in ("", None, "index", "Unnamed: 0")
    charts = wb["charts"]._charts
    assert sorted(type(c).__name__ for c in charts) == ["AreaChart", "BarChart", "LineChart"]
    refs = {type(c).__name__: c.series[0].val.numRef.f for c in charts}
    assert refs["LineChart"].startswith("'equity'!$B$2") and refs["BarChart"].startswith("'monthly'!$E$2")
    n_trades = int(query_df(journal, "SELECT count(*) AS n FROM trades")["n"][0])
    assert wb["trades"].max_row == n_trades + 1
    metrics = {row[0]: row[1] for row in wb["metrics"].iter_rows(min_row=2, values_only=True)}
    assert metrics["trades"] == n_trades


def test_workbook_has_no_nan_or_inf_cells(outputs):
    wb = openpyxl.load_workbook(outputs[1])
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, float) and not math.isfinite(value)), ws.title
                assert not (isinstance(value, str) and value.lower() in ("nan", "inf", "-inf")), ws.title


def test_csv_logs_match_the_views(outputs):
    journal, _, csv_dir = outputs
    names = {p.stem for p in csv_dir.glob("*.csv")}
    assert names == {"trades", "exits", "signal_analysis", "filtered_signals", "detailed_entries",
                     "performance_by_day", "performance_by_symbol", "performance_by_day_symbol", "daily_report",
                     "returns_daily", "returns_weekly", "returns_monthly"}
    trades = query_df(journal, "SELECT * FROM trades")
    signals = query_df(journal, "SELECT * FROM signals")
    assert len(pd.read_csv(csv_dir / "trades.csv")) == len(trades)
    assert len(pd.read_csv(csv_dir / "exits.csv")) == len(trades)
    assert len(pd.read_csv(csv_dir / "signal_analysis.csv")) == len(signals)
    filtered = pd.read_csv(csv_dir / "filtered_signals.csv")
    assert len(filtered) == int((~signals["accepted"]).sum()) > 0
    assert set(filtered["reason"]) == set(signals.loc[~signals["accepted"], "filter_reason"])
    entries = pd.read_csv(csv_dir / "detailed_entries.csv")
    assert len(entries) == len(query_df(journal, "SELECT * FROM entries"))
    assert entries["fill_price"].notna().all()
    by_symbol = pd.read_csv(csv_dir / "performance_by_symbol.csv").set_index("symbol")
    for symbol, pnl in trades.groupby("symbol")["pnl"].sum().items():
        assert by_symbol.loc[symbol, "net_pnl"] == pytest.approx(pnl)
    by_day = defaultdict(float)
    for ts, pnl in zip(trades["exit_ts"], trades["pnl"]):
        by_day[datetime.fromtimestamp(ts / 1000, tz=timezone.utc).strftime("%Y-%m-%d")] += pnl
    day = pd.read_csv(csv_dir / "performance_by_day.csv").set_index("day")["net_pnl"].to_dict()
    assert day == pytest.approx(dict(by_day))
    day_symbol = pd.read_csv(csv_dir / "performance_by_day_symbol.csv")
    assert day_symbol["trades"].sum() == len(trades)
    daily = pd.read_csv(csv_dir / "daily_report.csv")
    assert daily["trades"].sum() == len(trades)
    assert daily["net_pnl"].sum() == pytest.approx(trades["pnl"].sum())
