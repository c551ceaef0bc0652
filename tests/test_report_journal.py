"""`bot report` over real journals (the JournalWriter trading fixture and a `bot backtest` run on
the test candles): JSON keys, and every metric equal to an independent recomputation (plain
Python) from the `trades` and `equity` views."""
import json
import math
import statistics
from pathlib import Path
from datetime import datetime, timezone

import pytest

from conftest_report import run_bot, write_report_journal
from projections.db import query_df


DATA = Path(__file__).parent / "data" / "ohlcv"


@pytest.fixture(scope="module", params=["fixture", "backtest"])
def journal(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("report") / "journal"
    if request.param == "fixture":
        return write_report_journal(directory)
    done = run_bot("backtest", "--data", DATA, "--symbols", "BTC/USDT", "ETH/USDT", "--timeframe", "1h",
                   "--journal", directory)
    assert done.returncode == 0, done.stderr
    return directory


@pytest.fixture(scope="module")
def report(journal):
    done = run_bot("report", "--journal", journal, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


def independent(pnls, notionals, holds):
    """Textbook definitions, written again without the report code."""
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p <= 0]
    n = len(pnls)
    avg_win, avg_loss = statistics.mean(wins), statistics.mean(losses)
    returns = [p / x for p, x in zip(pnls, notionals)]
    return {
        "trades": n,
        "win_rate": len(wins) / n,
        "rrr": avg_win / abs(avg_loss),
        "expectancy": len(wins) / n * avg_win - len(losses) / n * abs(avg_loss),
        "profit_factor": sum(wins) / -sum(losses),
        "sharpe": statistics.mean(returns) / statistics.stdev(returns),
        "avg_holding_s": statistics.mean(holds),
        "net_pnl": sum(pnls),
    }


def longest_run(flags, value):
    best = run = 0
    for flag in flags:
        run = run + 1 if flag == value else 0
        best = max(best, run)
    return best


def test_json_has_the_documented_snake_case_keys(report):
    for key in ("trades", "win_rate", "rrr", "expectancy", "profit_factor", "mdd", "sharpe", "max_win_streak",
                "max_loss_streak", "avg_holding_s", "net_pnl", "fees", "total_return", "long", "short",
                "by_symbol", "returns"):
        assert key in report, key
    for side in ("long", "short"):
        assert set(report[side]) >= {"trades", "win_rate", "expectancy", "profit_factor"}
    assert set(report["returns"]) == {"daily", "weekly", "monthly"}
    assert set(report["by_symbol"]) == {"BTC/USDT", "ETH/USDT"}
    assert report["trades"] > 20, "the journal should trade"


def test_metrics_equal_independent_recomputation_from_views(journal, report):
    trades = query_df(journal, "SELECT * FROM trades").sort_values(["exit_ts", "entry_ts", "trade_id"])
    rows = trades.to_dict(orient="records")
    pnls = [r["pnl"] for r in rows]
    expected = independent(pnls, [r["entry_price"] * r["qty"] for r in rows],
                           [(r["exit_ts"] - r["entry_ts"]) / 1000 for r in rows])
    for key, value in expected.items():
        assert report[key] == pytest.approx(value, rel=1e-9), key
    assert report["max_win_streak"] == longest_run([p > 0 for p in pnls], True)
    assert report["max_loss_streak"] == longest_run([p > 0 for p in pnls], False)
    for side in ("long", "short"):
        mine = [r for r in rows if r["side"] == side]
        ind = independent([r["pnl"] for r in mine], [r["entry_price"] * r["qty"] for r in mine],
                          [(r["exit_ts"] - r["entry_ts"]) / 1000 for r in mine])
        for key in ("trades", "win_rate", "expectancy", "profit_factor"):
            assert report[side][key] == pytest.approx(ind[key], rel=1e-9), (side, key)
    for symbol, stats in report["by_symbol"].items():
        assert stats["net_pnl"] == pytest.approx(sum(r["pnl"] for r in rows if r["symbol"] == symbol))


def test_mdd_and_returns_equal_recomputation_from_equity_view(journal, report):
    curve = query_df(journal, "SELECT ts, equity, seq FROM equity ORDER BY ts, seq").to_dict(orient="records")
    peak, mdd = -math.inf, 0.0
    for point in curve:
        peak = max(peak, point["equity"])
        mdd = max(mdd, (peak - point["equity"]) / peak)
    assert report["mdd"] == pytest.approx(mdd, rel=1e-12)
    assert report["total_return"] == pytest.approx(curve[-1]["equity"] / curve[0]["equity"] - 1)
    closes, firsts = {}, {}
    for point in curve:
        month = datetime.fromtimestamp(point["ts"] / 1000, tz=timezone.utc).strftime("%Y-%m-01")
        firsts.setdefault(month, point["equity"])
        closes[month] = point["equity"]
    months = sorted(closes)
    starts = [firsts[months[0]]] + [closes[m] for m in months[:-1]]
    got = report["returns"]["monthly"]
    assert [r["period"] for r in got] == months
    assert [r["return"] for r in got] == pytest.approx([closes[m] / s - 1 for m, s in zip(months, starts)])


def test_table_output_names_every_headline_metric(journal):
    done = run_bot("report", "--journal", journal)
    assert done.returncode == 0, done.stderr
    for key in ("win_rate", "rrr", "expectancy", "profit_factor", "mdd", "sharpe", "max_loss_streak",
                "monthly returns"):
        assert key in done.stdout
