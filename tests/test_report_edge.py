"""Bad input, an empty journal, and the seed's generate_report/save_report API."""
import json
import math

import openpyxl
import pandas as pd
import pytest

from conftest_report import run_bot
from journal.errors import BadInput
from journal.events import SessionStarted
from journal.writer import JournalWriter
from projections.report import generate_report, save_report


def one_line_error(done):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr
    return lines[0]


def test_missing_journal_exits_2_naming_it(tmp_path):
    line = one_line_error(run_bot("report", "--journal", tmp_path / "nope", "--json"))
    assert "nope" in line


def test_bad_output_paths_exit_2(tmp_path):
    journal = tmp_path / "j"
    with JournalWriter.open(journal) as w:
        w.append([SessionStarted(ts=0, run_id="r", mode="paper", version="t", config_digest="d")])
    assert "report.txt" in one_line_error(run_bot("report", "--journal", journal, "--xlsx", tmp_path / "report.txt"))
    (tmp_path / "afile").write_text("x")
    assert "afile" in one_line_error(run_bot("report", "--journal", journal, "--csv", tmp_path / "afile"))


def test_empty_journal_reports_nulls_with_reasons(tmp_path):
    journal = tmp_path / "j"
    with JournalWriter.open(journal) as w:
        w.append([SessionStarted(ts=0, run_id="r", mode="paper", version="t", config_digest="d")])
    xlsx = tmp_path / "empty.xlsx"
    done = run_bot("report", "--journal", journal, "--json", "--xlsx", xlsx, "--csv", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["trades"] == 0
    for key in ("win_rate", "expectancy", "profit_factor", "sharpe", "mdd", "rrr"):
        assert doc[key] is None and doc[f"{key}_note"], key
    assert doc["returns"] == {"daily": [], "weekly": [], "monthly": []}
    wb = openpyxl.load_workbook(xlsx)
    assert wb["charts"]._charts == []
    assert "no equity series" in wb["charts"]["A1"].value
    assert (tmp_path / "data" / "paper" / "trades.csv").read_text().startswith("trade_id,")


def test_generate_report_is_one_row_and_save_report_has_no_index(tmp_path):
    trades = pd.DataFrame({"symbol": ["BTC/USDT"] * 3, "side": ["long", "short", "long"],
                           "entry_ts": [0, 10, 20], "exit_ts": [5_000, 15_000, 25_000],
                           "entry_price": [100.0] * 3, "qty": [1.0] * 3, "pnl": [4.0, -2.0, 0.0]})
    df = generate_report(trades, initial_equity=100.0)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["trades"] == 3 and row["win_rate"] == pytest.approx(1 / 3)
    assert row["profit_factor"] == pytest.approx(2.0)
    assert row["mdd"] == pytest.approx(2 / 104)            # equity 100, 104, 102, 102
    assert row["long_trades"] == 2 and row["short_trades"] == 1
    path = save_report(df, tmp_path / "reports" / "performance.xlsx")
    back = pd.read_excel(path)
    assert list(back.columns) == list(df.columns)          # header row = metric names, no index column
    assert back["trades"][0] == 3
    for value in back.iloc[0]:
        assert not (isinstance(value, float) and math.isinf(value))


def test_all_wins_report_keeps_undefined_ratios_empty_in_excel(tmp_path):
    trades = pd.DataFrame({"side": ["long"], "entry_ts": [0], "exit_ts": [1000], "entry_price": [10.0],
                           "qty": [1.0], "pnl": [1.0]})
    df = generate_report(trades)
    assert df["profit_factor"][0] is None and df["profit_factor_note"][0] == "no losing trades"
    back = pd.read_excel(save_report(df, tmp_path / "r.xlsx"))
    assert pd.isna(back["profit_factor"][0]) and back["sharpe_note"][0] == "fewer than 2 trades"


def test_bad_frames_raise_bad_input(tmp_path):
    with pytest.raises(BadInput, match="pnl"):
        generate_report(pd.DataFrame({"side": ["long"], "entry_ts": [0], "exit_ts": [1], "entry_price": [1.0],
                                      "qty": [1.0]}))
    with pytest.raises(BadInput, match=".xlsx"):
        save_report(pd.DataFrame({"a": [1]}), tmp_path / "r.csv")


def test_generate_report_accepts_datetime_columns():
    trades = pd.DataFrame({"side": ["long", "short"], "entry_price": [10.0, 10.0], "qty": [1.0, 2.0],
                           "pnl": [1.0, -1.0],
                           "entry_ts": pd.to_datetime(["2024-01-01 00:00", "2024-01-02 00:00"], utc=True),
                           "exit_ts": pd.to_datetime(["2024-01-01 02:00", "2024-01-02 00:30"], utc=True)})
    row = generate_report(trades).iloc[0]
    assert row["avg_holding_s"] == pytest.approx((7200 + 1800) / 2)
    assert row["long_win_rate"] == 1.0 and row["short_win_rate"] == 0.0
