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


def test_detailed_entries_pair_each_plan_with_its_own_order_not_the_next_fill(tmp_path):
    # Plan 1's entry is rejected (margin); plan 2, later, fills. Plan 1 must show no fill rather than plan 2's.
    from conftest_projection import BTC, write_journal
    from journal.events import EntryPlanned, OrderFilled, OrderRejected, OrderSubmitted
    from projections.csv_logs import LOG_QUERIES
    from projections.db import connect
    from projections.report_sql import fetch_df

    def plan(ts):
        return EntryPlanned(ts=ts, symbol=BTC, side="long", qty=1.0, ref_price=100.0, stop_price=95.0, atr=4.0,
                            risk_amount=5.0, notional=100.0, equity=1000.0)

    def entry(ts, cid):
        return OrderSubmitted(ts=ts, client_id=cid, symbol=BTC, side="buy", order_kind="market", qty=1.0,
                              purpose="entry")

    write_journal(tmp_path / "j", [
        plan(1), entry(1, "E1"), OrderRejected(ts=1, client_id="E1", symbol=BTC, reason="margin"),
        plan(5), entry(5, "E2"),
        OrderFilled(ts=6, client_id="E2", symbol=BTC, fill_id="E2-1", side="buy", qty=1.0, price=101.0,
                    purpose="entry"),
    ])
    con = connect(tmp_path / "j")
    try:
        rows = fetch_df(con, LOG_QUERIES["detailed_entries"])
    finally:
        con.close()
    assert list(rows["client_id"]) == ["E1", "E2"]
    assert list(rows["order_status"]) == ["rejected", "filled"]
    assert math.isnan(rows["fill_price"][0]) and rows["fill_price"][1] == 101.0
    assert rows["slippage_bps"][1] == pytest.approx(100.0)
