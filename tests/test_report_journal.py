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
from journal import events as ev
from journal.writer import JournalWriter
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
    assert curve[0]["equity"] == report["start_equity"] == 10_000.0  # the run's initial equity, not a first mark
    assert report["total_return"] == curve[-1]["equity"] / 10_000.0 - 1
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


T0 = 1_740_787_200_000  # 2025-03-01 00:00 UTC
HOUR = 3_600_000
BTC = "BTC/USDT"


def _fill(ts, cid, side, qty, price, purpose):
    return ev.OrderFilled(ts=ts, client_id=cid, symbol=BTC, fill_id=cid, side=side, qty=qty, price=price,
                          fee=qty * price * 0.0005, purpose=purpose)


def one_bar_stop_out_journal(directory: Path) -> Path:
    """Review finding 3: the first trade opens and stops out within one bar, so the core's first
    equity_marked comes after its whole loss. A second trade then gains a little."""
    loss1 = (88_000.0 - 90_000.0) * 0.1 - 0.1 * 90_000.0 * 0.0005 - 0.1 * 88_000.0 * 0.0005  # -208.9
    after1 = 10_000.0 + loss1
    gain2 = (91_000.0 - 89_000.0) * 0.1 - 0.1 * 89_000.0 * 0.0005 - 0.1 * 91_000.0 * 0.0005  # +191.0
    events = [
        ev.SessionStarted(ts=T0, run_id="one-bar", mode="backtest", version="test", config_digest="0" * 16,
                          symbols=(BTC,), settings={"params": {"initial_equity": 10_000.0}}),
        ev.DailyAnchorReset(ts=T0, day="2025-03-01", equity=10_000.0),  # the core's equity at its first bar
        ev.CandleClosed(ts=T0, symbol=BTC, timeframe="1h", open=89_500.0, high=90_100.0, low=89_400.0,
                        close=90_000.0, volume=1.0),  # breakout: entry planned
        _fill(T0 + HOUR, "e1", "buy", 0.1, 90_000.0, "entry"),  # bar 1 opens at 90 000: entry
        _fill(T0 + HOUR + 600_000, "s1", "sell", 0.1, 88_000.0, "stop"),  # 10 min later: stopped out at 88 000
        ev.PositionClosed(ts=T0 + HOUR + 600_000, symbol=BTC, side="long", trade_id="e1", qty=0.1,
                          entry_ts=T0 + HOUR, entry_price=90_000.0, exit_price=88_000.0, pnl=loss1,
                          fees=0.1 * 178_000.0 * 0.0005, reason="stop"),
        ev.EquityMarked(ts=T0 + HOUR + 600_000, equity=after1, realized=after1),  # first mark: 9 791.1
        ev.CandleClosed(ts=T0 + HOUR, symbol=BTC, timeframe="1h", open=90_000.0, high=90_050.0, low=87_900.0,
                        close=88_500.0, volume=1.0),  # bar 1 (flat again: no mark)
        _fill(T0 + 3 * HOUR, "e2", "buy", 0.1, 89_000.0, "entry"),  # bar 3: second entry at 89 000
        ev.EquityMarked(ts=T0 + 3 * HOUR, equity=after1 - 0.1 * 89_000.0 * 0.0005 - 100.0,
                        realized=after1 - 4.45, unrealized=-100.0),  # closes at 88 000: 9 686.65, the trough
        _fill(T0 + 4 * HOUR, "x2", "sell", 0.1, 91_000.0, "exit"),  # bar 4: exit at 91 000
        ev.PositionClosed(ts=T0 + 4 * HOUR, symbol=BTC, side="long", trade_id="e2", qty=0.1,
                          entry_ts=T0 + 3 * HOUR, entry_price=89_000.0, exit_price=91_000.0, pnl=gain2,
                          fees=0.1 * 180_000.0 * 0.0005, reason="exit"),
        ev.EquityMarked(ts=T0 + 4 * HOUR, equity=after1 + gain2, realized=after1 + gain2),  # final: 9 982.1
    ]
    with JournalWriter.open(directory) as writer:
        writer.append(events, durable=False)
    return directory


def test_first_trade_stopped_out_within_one_bar_counts_in_total_return_and_mdd(tmp_path):
    journal = one_bar_stop_out_journal(tmp_path / "j")
    done = run_bot("report", "--journal", journal, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    final = 10_000.0 + report["net_pnl"]
    assert report["end_equity"] == pytest.approx(final, abs=1e-9)
    assert (report["start_equity"], report["equity_points"]) == (10_000.0, 4)
    assert report["total_return"] == report["end_equity"] / 10_000.0 - 1  # -0.179 %, not +1.95 % from 9 791.1
    assert report["total_return"] == pytest.approx(-0.00179, abs=1e-12)
    trough = 10_000.0 - 208.9 - 4.45 - 100.0
    assert report["mdd"] == pytest.approx((10_000.0 - trough) / 10_000.0, rel=1e-12)  # from the 10 000 peak
    assert report["mdd_trough_ts"] == T0 + 3 * HOUR
    for period in ("daily", "weekly", "monthly"):
        (row,) = report["returns"][period]
        assert (row["start_equity"], row["end_equity"]) == (10_000.0, report["end_equity"])
        assert row["return"] == report["total_return"]
