"""Every metric against a hand-computed example (winning, losing, empty, all-wins, single trade)."""
import math

import pandas as pd
import pytest

from projections.metrics import report_metrics

H = 3_600_000  # one hour in ms


def trades(pnls, sides=None, notional=100.0, symbols=None):
    """Trades of qty 1 at entry price `notional`, entered every 2 h and held 1 h, in this exit order."""
    n = len(pnls)
    return pd.DataFrame({
        "trade_id": [f"t{i}" for i in range(n)],
        "symbol": symbols or ["BTC/USDT"] * n,
        "side": sides or ["long"] * n,
        "entry_ts": [2 * H * i for i in range(n)],
        "exit_ts": [2 * H * i + H for i in range(n)],
        "entry_price": [notional] * n,
        "exit_price": [notional + p for p in pnls],
        "qty": [1.0] * n,
        "pnl": [float(p) for p in pnls],
        "fees": [0.5] * n,
        "exit_reason": ["stop"] * n,
    })


def test_mixed_trades_match_hand_computation():
    # pnl 10, -5, 20, -5, 0 -> wins 10, 20; losses -5, -5, 0 (a zero-pnl trade is a loss)
    m = report_metrics(trades([10, -5, 20, -5, 0]))
    assert m["trades"] == 5 and m["wins"] == 2 and m["losses"] == 3
    assert m["win_rate"] == pytest.approx(0.4)
    assert m["avg_win"] == pytest.approx(15.0)
    assert m["avg_loss"] == pytest.approx(-10 / 3)
    assert m["expectancy"] == pytest.approx(0.4 * 15 - 0.6 * 10 / 3)  # = 4.0 = mean pnl
    assert m["rrr"] == pytest.approx(15 / (10 / 3))                   # = 4.5
    assert m["profit_factor"] == pytest.approx(30 / 10)
    # returns 0.10, -0.05, 0.20, -0.05, 0.00: mean 0.04, sum of squared deviations 0.047
    assert m["sharpe"] == pytest.approx(0.04 / math.sqrt(0.047 / 4))
    assert (m["max_win_streak"], m["max_loss_streak"]) == (1, 2)      # W L W L L
    assert m["avg_holding_s"] == pytest.approx(3600.0)
    assert m["net_pnl"] == pytest.approx(20.0) and m["fees"] == pytest.approx(2.5)
    assert not [k for k in m if k.endswith("_note") and k != "mdd_note" and k != "total_return_note"]


def test_empty_trades_give_nulls_with_reasons():
    m = report_metrics(trades([]))
    assert m["trades"] == 0
    for key in ("win_rate", "rrr", "expectancy", "profit_factor", "sharpe", "avg_holding_s"):
        assert m[key] is None, key
        assert m[f"{key}_note"], key
    assert m["profit_factor_note"] == "no trades"
    assert (m["max_win_streak"], m["max_loss_streak"]) == (0, 0)
    assert m["long"]["trades"] == 0 and m["long"]["win_rate"] is None


def test_all_wins_have_no_profit_factor_or_rrr():
    m = report_metrics(trades([5, 15]))
    assert m["win_rate"] == 1.0
    assert m["expectancy"] == pytest.approx(10.0)
    assert m["profit_factor"] is None and m["profit_factor_note"] == "no losing trades"
    assert m["rrr"] is None and m["rrr_note"] == "no losing trades"
    assert m["sharpe"] == pytest.approx(0.10 / math.sqrt(2 * 0.05 ** 2))  # returns 0.05, 0.15
    assert (m["max_win_streak"], m["max_loss_streak"]) == (2, 0)


def test_all_losses_give_zero_profit_factor():
    m = report_metrics(trades([-5, -15, -10]))
    assert m["win_rate"] == 0.0
    assert m["expectancy"] == pytest.approx(-10.0)
    assert m["profit_factor"] == 0.0
    assert m["rrr"] is None and m["rrr_note"] == "no winning trades"
    assert m["avg_win"] is None and m["avg_win_note"] == "no winning trades"
    assert (m["max_win_streak"], m["max_loss_streak"]) == (0, 3)


def test_single_trade_has_no_sharpe():
    m = report_metrics(trades([7]))
    assert m["trades"] == 1 and m["win_rate"] == 1.0 and m["expectancy"] == pytest.approx(7.0)
    assert m["sharpe"] is None and m["sharpe_note"] == "fewer than 2 trades"


def test_identical_returns_have_no_sharpe():
    m = report_metrics(trades([3, 3, 3]))
    assert m["sharpe"] is None and m["sharpe_note"] == "per-trade returns have zero spread"


def test_zero_pnl_trades_are_losses_with_zero_gross_loss():
    m = report_metrics(trades([0, 0]))
    assert m["losses"] == 2 and m["win_rate"] == 0.0 and m["expectancy"] == 0.0
    assert m["profit_factor"] is None and m["profit_factor_note"] == "gross loss is zero"


def test_streaks_follow_exit_order_not_row_order():
    frame = trades([10, 10, -5, 10])
    frame["exit_ts"] = [4 * H, 1 * H, 2 * H, 3 * H]  # exit order: t1(+) t2(-) t3(+) t0(+)
    frame["entry_ts"] = frame["exit_ts"] - H
    m = report_metrics(frame)
    assert (m["max_win_streak"], m["max_loss_streak"]) == (2, 1)


def test_long_short_breakdown():
    m = report_metrics(trades([10, -4, -6, 8], sides=["long", "long", "short", "short"]))
    assert m["long"] == {"trades": 2, "win_rate": 0.5, "expectancy": pytest.approx(3.0),
                         "profit_factor": pytest.approx(2.5), "net_pnl": pytest.approx(6.0)}
    assert m["short"]["profit_factor"] == pytest.approx(8 / 6)
    assert m["short"]["expectancy"] == pytest.approx(1.0)


def test_returns_use_entry_notional():
    frame = trades([10, -10])
    frame["qty"] = [2.0, 0.5]  # notionals 200 and 50 -> returns 0.05 and -0.2
    m = report_metrics(frame)
    mean, std = (0.05 - 0.2) / 2, math.sqrt(2 * 0.125 ** 2)
    assert m["sharpe"] == pytest.approx(mean / std)
