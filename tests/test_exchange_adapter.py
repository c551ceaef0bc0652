"""The ccxt adapter's port methods (and the seed facade) against exchange-sim."""
from __future__ import annotations

import logging

import msgspec
import pytest

from conftest_exchange import KEY, SECRET, adapter, make_adapter, sim  # noqa: F401 - fixtures
from exchange.api import ExchangeAPI
from exchange.binance_errors import VenueError
from exchange.port import OrderStatus, PositionStatus
from exchange.sim.faults import FaultSpec
from journal.events import (
    CandleClosed, ClockObserved, EquityObserved, FundingObserved, MarketLoaded, OrderAccepted, OrderCanceled,
    OrderCancelRequested, OrderFilled, OrderSubmitted,
)

H = 3_600_000


def order(sim, client_id, side="buy", kind="market", qty=0.01, **kw) -> OrderSubmitted:
    return OrderSubmitted(ts=sim.venue.forming, client_id=client_id, symbol="BTC/USDT", side=side, order_kind=kind,
                          qty=qty, purpose=kw.pop("purpose", "entry"), **kw)


def test_load_markets_hands_the_core_venue_rules(sim):
    loaded = make_adapter(sim.url).load_markets(["BTC/USDT", "ETH/USDT"], ts=7)
    assert loaded == [MarketLoaded(ts=7, symbol="BTC/USDT", tick_size=0.1, step_size=0.001, min_qty=0.001,
                                   min_notional=100.0),
                      MarketLoaded(ts=7, symbol="ETH/USDT", tick_size=0.01, step_size=0.001, min_qty=0.001,
                                   min_notional=20.0)]


def test_market_entry_answers_accepted_and_a_fill_with_the_trade_id(sim, adapter):
    events = adapter.submit(order(sim, "r-1"))
    accepted, fill = events
    assert isinstance(accepted, OrderAccepted) and accepted.exchange_id
    assert isinstance(fill, OrderFilled) and fill.fill_id == "BTCUSDT:1" and fill.ts == sim.venue.forming
    assert (fill.qty, fill.cum_qty, fill.order_qty, fill.purpose) == (0.01, 0.01, 0.01, "entry")
    assert adapter.positions() == [PositionStatus(symbol="BTC/USDT", side="long", qty=0.01, entry_price=fill.price)]


def test_protective_stop_is_open_then_canceled_by_client_id(sim, adapter):
    adapter.submit(order(sim, "r-1"))
    stop = order(sim, "r-2", side="sell", kind="stop_market", stop_price=70_000.0, reduce_only=True, purpose="stop")
    assert [type(e) for e in adapter.submit(stop)] == [OrderAccepted]
    [status] = adapter.open_orders("BTC/USDT")
    assert (status.client_id, status.order_kind, status.stop_price, status.reduce_only) == (
        "r-2", "stop_market", 70_000.0, True)
    canceled = adapter.cancel(OrderCancelRequested(ts=1, client_id="r-2", symbol="BTC/USDT"))
    assert [type(e) for e in canceled] == [OrderCanceled]
    assert adapter.fetch_order("r-2", "BTC/USDT").status == "canceled"
    assert adapter.fetch_order("never", "BTC/USDT") is None


def test_triggered_stop_is_reported_once_by_advance(sim, adapter):
    fill = adapter.submit(order(sim, "r-1"))[1]
    stop_price = round(fill.price * 0.995, 1)
    adapter.submit(order(sim, "r-2", side="sell", kind="stop_market", stop_price=stop_price, reduce_only=True,
                         purpose="stop"))
    adapter.submit(order(sim, "r-3", side="sell", kind="take_profit_market", stop_price=round(fill.price * 1.5, 1),
                         reduce_only=True, purpose="take_profit"))
    reported = []
    for _ in range(100):
        bar = sim.venue.forming
        sim.step(1)
        reported += adapter.advance(CandleClosed(ts=bar, symbol="BTC/USDT", timeframe="1h", open=0, high=0, low=0,
                                                 close=0, volume=0))
        if any(isinstance(e, OrderFilled) for e in reported):
            break
    fills = [e for e in reported if isinstance(e, OrderFilled)]
    assert [(f.client_id, f.purpose, f.price <= stop_price) for f in fills] == [("r-2", "stop", True)]
    assert [(e.client_id, e.reason) for e in reported if isinstance(e, OrderCanceled)] == [("r-3", "expired")]
    assert adapter.positions() == []


def test_observations_clock_funding_equity(sim, adapter):
    [clock] = adapter.observe_clock(5)
    [funding] = adapter.observe_funding("BTC/USDT", 5)
    [equity] = adapter.observe_equity(5)
    assert isinstance(clock, ClockObserved) and abs(clock.drift_ms) < 1_000
    assert isinstance(funding, FundingObserved) and funding.rate == 0.0001
    assert funding.next_funding_ts % (8 * H) == 0 and funding.next_funding_ts > sim.venue.forming
    assert isinstance(equity, EquityObserved) and equity.equity == 10_000.0 == adapter.equity()


def test_poll_candles_gives_closed_bars_only(sim, adapter):
    since = sim.venue.forming - 3 * H
    candles = adapter.poll_candles("BTC/USDT", "1h", since=since, ts=0)
    assert [c.ts for c in candles] == [since, since + H, since + 2 * H]


def test_poll_candles_after_a_gap_longer_than_the_limit_starts_at_since(sim, adapter):
    sim.step(10)
    since = sim.venue.forming - 6 * H  # six closed bars, limit five: the oldest five, the sixth at the next poll
    candles = adapter.poll_candles("BTC/USDT", "1h", since=since, ts=0, limit=5)
    assert [c.ts for c in candles] == [since + i * H for i in range(5)]


def test_unreachable_venue_is_an_event_not_an_exception(sim, adapter):
    sim.set_faults(FaultSpec(rates={"http_5xx": 1.0}))
    assert {type(e).__name__ for e in adapter.advance(CandleClosed(
        ts=0, symbol="BTC/USDT", timeframe="1h", open=0, high=0, low=0, close=0, volume=0))} == {"ErrorObserved"}
    with pytest.raises(VenueError):
        adapter.equity()  # plain values cannot carry an event: our own error class, never a ccxt one


def test_seed_facade(sim, monkeypatch):
    monkeypatch.setenv("BINANCE_BASE_URL", sim.url)
    monkeypatch.setenv("BINANCE_KEY", KEY)
    monkeypatch.setenv("BINANCE_SECRET", SECRET)
    api = ExchangeAPI(auto_connect=True)
    rows = api.fetch_ohlcv("BTC/USDT", "1h", limit=200)
    assert len(rows) == 200 and rows[-1][0] == sim.venue.forming - H
    assert api.get_equity_usdt() == 10_000.0
    assert any(isinstance(e, OrderFilled) for e in api.market_order("BTC/USDT", "buy", 0.01, "api-1"))
    assert [type(e) for e in api.stop_market("BTC/USDT", "sell", 0.01, 60_000.0, "api-2")] == [OrderAccepted]
    assert api.fetch_order("BTC/USDT", "api-2") == OrderStatus(
        client_id="api-2", symbol="BTC/USDT", side="sell", order_kind="stop_market", qty=0.01, filled_qty=0.0,
        status="open", stop_price=60_000.0, price=None, avg_price=None, reduce_only=True)
    assert [type(e) for e in api.cancel_order("BTC/USDT", "api-2")] == [OrderCanceled]


def test_secrets_never_reach_events_logs_exceptions_or_reprs(sim, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    written: list[str] = []
    for kind in ("auth", "nonce", "http_5xx", "rate_limit", "drop_response", "timeout_after_accept", "partial_fill"):
        sim.set_faults(FaultSpec(rates={kind: 1.0}, hold_ms=600))
        exchange = make_adapter(sim.url)
        written.append(repr(exchange))
        for i, event in enumerate(exchange.submit(order(sim, f"s-{kind}"))):
            written.append(msgspec.json.encode(event).decode())
            written.append(repr(event))
        try:
            exchange.equity()
        except VenueError as error:
            written += [str(error), repr(error), error.message]
    sim.set_faults(FaultSpec())
    wrong = make_adapter(sim.url, secret=SECRET[::-1])
    written += [msgspec.json.encode(e).decode() for e in wrong.submit(order(sim, "s-wrong"))]
    written += [repr(sim), repr(sim.credentials), repr(ExchangeAPI(make_adapter(sim.url)))]
    captured = capsys.readouterr()
    everything = "\n".join(written + [r.getMessage() for r in caplog.records] + [captured.out, captured.err])
    assert "signature=" not in everything or "signature=***" in everything
    for secret in (KEY, SECRET, SECRET[::-1]):
        assert secret not in everything
    assert len(written) > 20


def test_adapter_from_the_bot_config(sim):
    from cli.config_schema import BotConfig
    from exchange.binance_client import PRODUCTION_URL, TESTNET_URL
    from exchange.binance_config import binance_from_config

    config = BotConfig(binance_key=KEY, binance_secret=SECRET, binance_base_url=sim.url)
    exchange = binance_from_config(config)
    assert exchange.endpoint == sim.url and exchange.equity() == 10_000.0
    assert binance_from_config(BotConfig(testnet=True)).endpoint == TESTNET_URL
    assert binance_from_config(BotConfig(testnet=False)).endpoint == PRODUCTION_URL
    assert "fapi.binance.com" not in binance_from_config(BotConfig(testnet=True)).venue.client.urls["api"]["fapiPublic"]
