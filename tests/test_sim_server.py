"""`exchange-sim` speaks Binance USDⓈ-M to the real, unmodified ccxt client."""
from __future__ import annotations

import re
import time

import ccxt
import pytest

from conftest_exchange import KEY, SECRET, sim  # noqa: F401 - fixture
from exchange.sim.faults import FaultInjector, FaultSpec
from journal.errors import BadInput

BTC = "BTC/USDT:USDT"


def raw_client(url: str, key: str = KEY, secret: str = SECRET) -> ccxt.binanceusdm:
    """The recipe the README gives for pointing any ccxt script at the sim."""
    client = ccxt.binanceusdm({"apiKey": key, "secret": secret, "enableRateLimit": False,
                               "options": {"fetchCurrencies": False}})
    client.urls["api"] = {k: re.sub(r"^https?://[^/]+", url, v) for k, v in client.urls["api"].items()}
    client.exceptions["exact"] = {**client.exceptions["exact"], **client.exceptions["linear"]["exact"]}
    return client


def test_load_markets_announces_binance_rules(sim):
    markets = raw_client(sim.url).load_markets()
    assert {"BTC/USDT:USDT", "ETH/USDT:USDT"} <= set(markets)
    btc = markets[BTC]
    assert (btc["precision"]["price"], btc["precision"]["amount"], btc["limits"]["cost"]["min"]) == (0.1, 0.001, 100.0)


def test_klines_stop_at_the_market_clock_and_hide_the_forming_bar(sim):
    client = raw_client(sim.url)
    bars = client.fetch_ohlcv(BTC, "1h", limit=3)
    forming = bars[-1]
    assert forming[0] == sim.venue.forming
    assert forming[1] == forming[2] == forming[3] == forming[4] and forming[5] == 0.0
    sim.step(2)
    later = client.fetch_ohlcv(BTC, "1h", limit=3)
    assert later[-1][0] == forming[0] + 2 * 3_600_000
    assert later[-3][0] == forming[0] and later[-3][2] >= later[-3][3]  # now closed: a real range


def test_klines_paginate_from_start_time(sim):
    client = raw_client(sim.url)
    first = sim.venue.series["BTCUSDT"].ts[0]
    page = client.fetch_ohlcv(BTC, "1h", since=int(first), limit=100)
    assert len(page) == 100 and page[0][0] == first and page[99][0] == first + 99 * 3_600_000


def test_server_time_carries_the_injected_skew(sim):
    sim.set_faults(FaultSpec(clock_skew_ms=120_000))
    client = raw_client(sim.url)
    assert abs(client.fetch_time() - (time.time() * 1000 + 120_000)) < 2_000


def test_wrong_key_is_authentication_error(sim):
    with pytest.raises(ccxt.AuthenticationError):
        raw_client(sim.url, key="not-the-key").fetch_balance()


def test_wrong_secret_is_authentication_error(sim):
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        raw_client(sim.url, secret="not-the-secret").fetch_balance()


def test_timestamp_outside_recv_window_is_invalid_nonce(sim):
    sim.set_faults(FaultSpec(clock_skew_ms=30_000))
    with pytest.raises(ccxt.InvalidNonce):
        raw_client(sim.url).fetch_balance()


def test_a_client_id_in_use_by_an_open_order_is_rejected_as_duplicate(sim):
    client = raw_client(sim.url)
    client.create_order(BTC, "limit", "buy", 0.2, 1_000.0, {"clientOrderId": "dup-1"})  # rests: open
    with pytest.raises(ccxt.InvalidOrder, match="-4116"):
        client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "dup-1"})


def test_the_client_id_of_a_filled_order_can_be_used_again_as_on_binance(sim):
    client = raw_client(sim.url)  # Binance: newClientOrderId is unique among OPEN orders only
    client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "dup-1"})
    again = client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "dup-1"})
    assert again["status"] == "closed" and sim.venue.duplicate_placements == 1
    assert client.fetch_order(None, BTC, {"origClientOrderId": "dup-1"})["id"] == again["id"]  # the newest


def test_insufficient_margin_and_min_notional(sim):
    client = raw_client(sim.url)
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order(BTC, "market", "buy", 5.0, None, {"clientOrderId": "big-1"})
    with pytest.raises(ccxt.InvalidOrder, match="-4164"):
        client.create_order(BTC, "market", "buy", 0.001, None, {"clientOrderId": "small-1"})


def test_unknown_order_is_order_not_found(sim):
    with pytest.raises(ccxt.OrderNotFound):
        raw_client(sim.url).fetch_order(None, BTC, {"origClientOrderId": "never-sent"})


def test_stop_order_goes_through_the_algo_service_and_fills_at_the_stop(sim):
    client = raw_client(sim.url)
    entry = client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "e-1"})
    stop_price = round(entry["average"] * 0.99, 1)
    stop = client.create_order(BTC, "market", "sell", 0.01, None,
                               {"clientOrderId": "s-1", "stopLossPrice": stop_price, "reduceOnly": True})
    assert stop["status"] == "open" and stop["clientOrderId"] == "s-1"
    assert client.fetch_open_orders(BTC, params={"trigger": True})[0]["clientOrderId"] == "s-1"
    series = sim.venue.series["BTCUSDT"]
    for _ in range(200):
        sim.step(1)
        if client.fetch_order(None, BTC, {"clientAlgoId": "s-1", "trigger": True})["status"] == "closed":
            break
    trades = client.fetch_my_trades(BTC)
    exit_trade = trades[-1]
    bar = series.index_at(exit_trade["timestamp"])
    assert exit_trade["side"] == "sell" and exit_trade["amount"] == 0.01
    assert exit_trade["price"] == min(stop_price, series.open[bar])  # at the stop, or the open on a gap
    assert series.low[bar] <= exit_trade["price"] <= series.high[bar]
    assert client.fetch_positions([BTC]) == []


def test_cancel_algo_order_by_client_id(sim):
    client = raw_client(sim.url)
    client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "e-2"})
    client.create_order(BTC, "market", "sell", 0.01, None, {"clientOrderId": "s-2", "stopLossPrice": 1000.0,
                                                            "reduceOnly": True})
    assert client.cancel_order(None, BTC, {"clientAlgoId": "s-2", "trigger": True})["status"] == "canceled"
    assert client.fetch_open_orders(BTC, params={"trigger": True}) == []


def test_fault_spec_parses_and_refuses_bad_input():
    spec = FaultSpec.parse("http_5xx=0.2, rate_limit=0.1,clock_skew_ms=5000,seed=7")
    assert spec.rates == {"http_5xx": 0.2, "rate_limit": 0.1} and spec.clock_skew_ms == 5000 and spec.seed == 7
    for bad in ("explode=0.1", "http_5xx=2", "http_5xx", "seed=x"):
        with pytest.raises(BadInput):
            FaultSpec.parse(bad)


def test_faults_are_deterministic_under_a_seed():
    def sequence(seed: int) -> list:
        injector = FaultInjector(FaultSpec.parse(f"http_5xx=0.3,rate_limit=0.3,seed={seed}"))
        return [injector.roll(("http_5xx", "rate_limit")) for _ in range(200)]

    assert sequence(3) == sequence(3)
    assert sequence(3) != sequence(4)
    assert {None, "http_5xx", "rate_limit"} == set(sequence(3))


def test_control_endpoint_steps_the_market_clock(sim):
    import requests

    before = requests.get(f"{sim.url}/sim/state", timeout=2).json()["forming_bar"]
    after = requests.post(f"{sim.url}/sim/step?bars=3", timeout=2).json()["forming_bar"]
    assert after - before == 3 * 3_600_000
