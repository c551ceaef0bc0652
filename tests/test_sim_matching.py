"""The sim's matching engine on hand-written candles (same rules as the paper exchange)."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest_exchange import KEY, SECRET
from exchange.sim.boot import build_server
from exchange.sim.faults import FaultSpec
from test_sim_server import raw_client

H = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00Z, a funding time
SOL = "SOL/USDT:USDT"

BARS = [  # open, high, low, close
    (100, 101, 99, 100),   # 0 closed history
    (100, 101, 99, 100),   # 1 forming at start: market orders fill at 100
    (100, 101, 98, 99),    # 2 a stop at 98.5 trades through: fill at 98.5
    (95, 96, 94, 95),      # 3 opens below a stop at 97: gap, fill at the open 95
    (95, 110, 90, 100),    # 4 both a stop (91) and a take-profit (109) inside: the stop wins
    (100, 101, 99, 100),   # 5
    (100, 101, 99, 100),   # 6
    (100, 101, 99, 100),   # 7
    (100, 101, 99, 100),   # 8
]


@pytest.fixture
def market(tmp_path):
    folder = tmp_path / "1h"
    folder.mkdir()
    rows = [{"timestamp": T0 + i * H, "open": o, "high": h, "low": l, "close": c, "volume": 10.0}
            for i, (o, h, l, c) in enumerate(BARS)]
    pd.DataFrame(rows).to_csv(folder / "SOL_USDT.csv", index=False)

    def start(**kwargs):
        return build_server(tmp_path, key=KEY, secret=SECRET, speed=0.0, start=T0 + H, retry_after_s=0,
                            **kwargs).start()

    return start


def last_trade(client):
    return client.fetch_my_trades(SOL)[-1]


def test_market_order_fills_at_the_forming_bar_open_at_its_open_time(market):
    sim = market()
    client = raw_client(sim.url)
    order = client.create_order(SOL, "market", "buy", 1.0, None, {"clientOrderId": "m-1"})
    trade = last_trade(client)
    assert (order["average"], trade["price"], trade["timestamp"]) == (100.0, 100.0, T0 + H)
    assert trade["fee"]["cost"] == pytest.approx(100.0 * 0.0005)
    sim.stop()


def test_stop_fills_at_its_price_inside_the_bar_or_at_the_open_on_a_gap(market):
    sim = market()
    client = raw_client(sim.url)
    client.create_order(SOL, "market", "buy", 2.0, None, {"clientOrderId": "m-1"})
    sim.step(1)  # bar 1 closes; bar 2 forming
    client.create_order(SOL, "market", "sell", 1.0, None, {"clientOrderId": "s-1", "stopLossPrice": 98.5,
                                                          "reduceOnly": True})
    client.create_order(SOL, "market", "sell", 1.0, None, {"clientOrderId": "s-2", "stopLossPrice": 97.0,
                                                          "reduceOnly": True})
    sim.step(1)  # bar 2 closes: low 98 reaches 98.5 but not 97
    trades = client.fetch_my_trades(SOL)
    assert (trades[-1]["price"], trades[-1]["timestamp"]) == (98.5, T0 + 2 * H)
    sim.step(1)  # bar 3 opens at 95, below 97
    trades = client.fetch_my_trades(SOL)
    assert (trades[-1]["price"], trades[-1]["timestamp"]) == (95.0, T0 + 3 * H)
    assert client.fetch_positions([SOL]) == []
    sim.stop()


def test_stop_wins_when_one_bar_reaches_both_stop_and_take_profit(market):
    sim = market()
    client = raw_client(sim.url)
    sim.step(2)  # forming bar 3 (open 95)
    client.create_order(SOL, "market", "buy", 1.0, None, {"clientOrderId": "m-1"})
    sim.step(1)  # forming bar 4
    client.create_order(SOL, "market", "sell", 1.0, None, {"clientOrderId": "tp-1", "takeProfitPrice": 109.0,
                                                          "reduceOnly": True})
    client.create_order(SOL, "market", "sell", 1.0, None, {"clientOrderId": "sl-1", "stopLossPrice": 91.0,
                                                          "reduceOnly": True})
    sim.step(1)
    assert last_trade(client)["price"] == 91.0
    assert client.fetch_order(None, SOL, {"clientAlgoId": "tp-1", "trigger": True})["status"] == "expired"
    sim.stop()


def test_partial_fill_leaves_the_rest_for_the_next_bar_open(market):
    sim = market(faults=FaultSpec(rates={"partial_fill": 1.0}))
    client = raw_client(sim.url)
    order = client.create_order(SOL, "market", "buy", 3.0, None, {"clientOrderId": "p-1"})
    assert order["status"] == "open" and 0 < order["filled"] < 3.0
    sim.step(1)
    done = client.fetch_order(None, SOL, {"origClientOrderId": "p-1"})
    assert done["status"] == "closed" and done["filled"] == 3.0
    trades = client.fetch_my_trades(SOL)
    assert [t["timestamp"] for t in trades] == [T0 + H, T0 + 2 * H]
    sim.stop()


def test_funding_is_charged_at_funding_times(market):
    sim = market()
    client = raw_client(sim.url)
    client.create_order(SOL, "market", "buy", 10.0, None, {"clientOrderId": "f-1"})
    wallet = sim.venue.ledger.wallet
    sim.step(7)  # T0 + 8h is a funding time
    assert sim.venue.ledger.funding and sim.venue.ledger.funding[0]["time"] == T0 + 8 * H
    assert sim.venue.ledger.wallet == pytest.approx(wallet - 10.0 * 100.0 * 0.0001)
    sim.stop()


def test_stop_that_would_trigger_immediately_is_refused(market):
    import ccxt

    sim = market()
    client = raw_client(sim.url)
    client.create_order(SOL, "market", "buy", 1.0, None, {"clientOrderId": "m-1"})
    with pytest.raises(ccxt.ExchangeError, match="-2021"):
        client.create_order(SOL, "market", "sell", 1.0, None, {"clientOrderId": "s-1", "stopLossPrice": 100.5,
                                                              "reduceOnly": True})
    sim.stop()


def test_market_clock_runs_at_speed_and_steps_by_whole_bars():
    from exchange.sim.clock import MarketClock

    wall = [1000.0]
    clock = MarketClock(T0, H, speed=60.0, wall=lambda: wall[0])
    assert clock.forming_open_ms() == T0
    wall[0] += 90.0  # 90 s of real time at 60x = 1.5 h of market time
    assert clock.now_ms() == T0 + 90 * 60 * 1000 and clock.forming_open_ms() == T0 + H
    clock.step(2)
    assert clock.forming_open_ms() == T0 + 3 * H


def test_limit_orders_fill_now_when_marketable_else_when_a_bar_reaches_them(market):
    sim = market()
    client = raw_client(sim.url)
    now = client.create_order(SOL, "limit", "buy", 1.0, 105.0, {"clientOrderId": "l-1"})
    assert now["status"] == "closed" and now["average"] == 100.0  # price improvement: the market, not 105
    resting = client.create_order(SOL, "limit", "sell", 1.0, 100.5, {"clientOrderId": "l-2"})
    assert resting["status"] == "open" and client.fetch_open_orders(SOL)[0]["clientOrderId"] == "l-2"
    sim.step(1)  # bar 1: high 101 reaches 100.5
    done = client.fetch_order(None, SOL, {"origClientOrderId": "l-2"})
    assert done["status"] == "closed" and done["average"] == 100.5
    assert client.fetch_positions([SOL]) == []
    sim.stop()
