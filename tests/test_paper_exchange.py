"""Scenario tests for the paper exchange: one rule per test, hand-written bars."""
from __future__ import annotations

import pytest

from exchange.paper import PaperExchange
from journal.events import (
    CandleClosed, OrderAccepted, OrderCanceled, OrderCancelRequested, OrderFilled, OrderRejected, OrderSubmitted,
)

H = 3_600_000
SYMBOL = "BTC/USDT"


def bar(i: int, o: float, h: float, l: float, c: float, symbol: str = SYMBOL) -> CandleClosed:
    return CandleClosed(ts=i * H, symbol=symbol, timeframe="1h", open=o, high=h, low=l, close=c, volume=1.0)


def order(cid: str, side: str, qty: float, kind: str = "market", stop: float | None = None,
          reduce_only: bool = False, purpose: str = "entry", ts: int = 0) -> OrderSubmitted:
    return OrderSubmitted(ts=ts, client_id=cid, symbol=SYMBOL, side=side, order_kind=kind, qty=qty,
                          purpose=purpose, stop_price=stop, reduce_only=reduce_only)


def venue(**kwargs) -> PaperExchange:
    exchange = PaperExchange(**kwargs)
    exchange.load_markets([SYMBOL, "ETH/USDT"], ts=0)
    return exchange


def step(exchange: PaperExchange, candle: CandleClosed) -> list:
    """Advance then close a bar, as the loop does, returning every answer."""
    return exchange.advance(candle) + exchange.bar_closed(candle)


def fills(events: list) -> list[OrderFilled]:
    return [e for e in events if isinstance(e, OrderFilled)]


def long_position(exchange: PaperExchange, qty: float = 1.0) -> None:
    """Bar 0 closes at 100; a market buy fills at bar 1's open (100)."""
    step(exchange, bar(0, 100, 101, 99, 100))
    exchange.submit(order("entry", "buy", qty))
    step(exchange, bar(1, 100, 102, 99.5, 101))


def test_market_entry_fills_at_next_bar_open_with_fee_and_bar_time():
    exchange = venue()
    step(exchange, bar(0, 100, 105, 95, 104))  # signal bar closes at 104
    answers = exchange.submit(order("e1", "buy", 2.0))
    assert isinstance(answers[0], OrderAccepted) and answers[0].exchange_id == "P1"
    filled = fills(exchange.advance(bar(1, 103, 106, 101, 105)))
    assert [(f.price, f.qty, f.ts, f.fill_id) for f in filled] == [(103.0, 2.0, 1 * H, "e1-f1")]
    assert filled[0].fee == pytest.approx(2.0 * 103 * 0.0005)


def test_slippage_makes_buys_pay_more_and_sells_receive_less():
    exchange = venue(slippage_bps=10.0)
    step(exchange, bar(0, 100, 101, 99, 100))
    exchange.submit(order("b", "buy", 1.0))
    assert fills(step(exchange, bar(1, 200, 201, 199, 200)))[0].price == pytest.approx(200.2)
    exchange.submit(order("s", "sell", 1.0, reduce_only=True, purpose="exit"))
    assert fills(step(exchange, bar(2, 300, 301, 299, 300)))[0].price == pytest.approx(299.7)


def test_stop_inside_bar_fills_at_stop_price():
    exchange = venue()
    long_position(exchange)
    exchange.submit(order("stop", "sell", 1.0, "stop_market", stop=97.0, reduce_only=True, purpose="stop"))
    filled = fills(step(exchange, bar(2, 100, 100.5, 96.0, 98)))
    assert [(f.client_id, f.price, f.ts) for f in filled] == [("stop", 97.0, 2 * H)]
    assert exchange.positions() == []


def test_stop_gapped_through_fills_at_the_open():
    exchange = venue()
    long_position(exchange)
    exchange.submit(order("stop", "sell", 1.0, "stop_market", stop=97.0, reduce_only=True, purpose="stop"))
    filled = fills(step(exchange, bar(2, 95.0, 96.0, 94.0, 95.5)))  # opens below the stop
    assert filled[0].price == 95.0


def test_short_stop_gapped_up_fills_at_the_open():
    exchange = venue()
    step(exchange, bar(0, 100, 101, 99, 100))
    exchange.submit(order("short", "sell", 1.0))
    step(exchange, bar(1, 100, 100.5, 98, 99))
    exchange.submit(order("stop", "buy", 1.0, "stop_market", stop=103.0, reduce_only=True, purpose="stop"))
    assert fills(step(exchange, bar(2, 105.0, 106, 104, 105)))[0].price == 105.0
    assert exchange.equity() == pytest.approx(10_000 - 5.0 - (100 + 105) * 0.0005)


def test_take_profit_fills_at_level_or_at_a_better_gap_open():
    exchange = venue()
    long_position(exchange, qty=2.0)
    exchange.submit(order("tp1", "sell", 1.0, "take_profit_market", stop=104.0, reduce_only=True,
                          purpose="take_profit"))
    assert fills(step(exchange, bar(2, 102, 104.5, 101, 103)))[0].price == 104.0
    exchange.submit(order("tp2", "sell", 1.0, "take_profit_market", stop=106.0, reduce_only=True,
                          purpose="take_profit"))
    assert fills(step(exchange, bar(3, 108, 109, 107, 108)))[0].price == 108.0


def test_stop_is_checked_before_take_profit_in_the_same_bar():
    exchange = venue()
    long_position(exchange)
    exchange.submit(order("tp", "sell", 1.0, "take_profit_market", stop=104.0, reduce_only=True,
                          purpose="take_profit"))
    exchange.submit(order("stop", "sell", 1.0, "stop_market", stop=97.0, reduce_only=True, purpose="stop"))
    answers = step(exchange, bar(2, 100, 105, 96, 100))  # reaches both levels
    assert [f.client_id for f in fills(answers)] == ["stop"]
    assert [(e.client_id, e.reason) for e in answers if isinstance(e, OrderCanceled)] == [("tp", "position_closed")]


def test_stop_wins_over_a_pyramid_add_in_the_same_bar():
    exchange = venue()
    long_position(exchange)
    exchange.submit(order("stop", "sell", 1.0, "stop_market", stop=97.0, reduce_only=True, purpose="stop"))
    exchange.submit(order("add", "buy", 1.0, "stop_market", stop=103.0, purpose="pyramid"))
    answers = step(exchange, bar(2, 100, 104, 96, 100))
    assert [f.client_id for f in fills(answers)] == ["stop"]
    assert exchange.positions() == []
    assert [o.client_id for o in exchange.open_orders(SYMBOL)] == ["add"]  # the core cancels it


def test_pyramid_add_fills_when_no_stop_fires():
    exchange = venue()
    long_position(exchange)
    exchange.submit(order("add", "buy", 1.0, "stop_market", stop=103.0, purpose="pyramid"))
    filled = fills(step(exchange, bar(2, 102, 104, 101.5, 103.5)))
    assert [(f.client_id, f.price) for f in filled] == [("add", 103.0)]
    position = exchange.positions()[0]
    assert position.qty == pytest.approx(2.0) and position.entry_price == pytest.approx((100 + 103) / 2)


def test_stop_placed_after_the_entry_fill_is_live_for_the_rest_of_that_bar():
    exchange = venue()
    step(exchange, bar(0, 100, 101, 99, 100))
    exchange.submit(order("entry", "buy", 1.0))
    candle = bar(1, 100, 101, 95, 96)
    assert fills(exchange.advance(candle))[0].price == 100.0  # entry at the open
    exchange.submit(order("stop", "sell", 1.0, "stop_market", stop=97.0, reduce_only=True, purpose="stop"))
    filled = fills(exchange.bar_closed(candle))
    assert [(f.client_id, f.price, f.ts) for f in filled] == [("stop", 97.0, 1 * H)]


def test_orders_submitted_after_the_bar_closed_rest_until_the_next_bar():
    exchange = venue()
    long_position(exchange)  # bar 1 low was 99.5
    exchange.submit(order("stop", "sell", 1.0, "stop_market", stop=99.8, reduce_only=True, purpose="stop",
                          ts=1 * H))
    assert fills(exchange.advance(bar(2, 100.5, 101, 100, 100.5))) == []  # bar 2 never reaches 99.8
    assert [o.client_id for o in exchange.open_orders(SYMBOL)] == ["stop"]


def test_reduce_only_never_flips_a_position():
    exchange = venue()
    long_position(exchange, qty=1.0)
    exchange.submit(order("exit", "sell", 3.0, reduce_only=True, purpose="exit"))
    answers = step(exchange, bar(2, 102, 103, 101, 102))
    assert [(f.qty, f.cum_qty, f.order_qty) for f in fills(answers)] == [(1.0, 1.0, 3.0)]
    assert ("exit", "reduce_only") in [(e.client_id, e.reason) for e in answers if isinstance(e, OrderCanceled)]
    assert exchange.positions() == []


def test_reduce_only_with_no_position_is_canceled_without_a_fill():
    exchange = venue()
    step(exchange, bar(0, 100, 101, 99, 100))
    exchange.submit(order("exit", "sell", 1.0, reduce_only=True, purpose="exit"))
    answers = step(exchange, bar(1, 100, 101, 99, 100))
    assert fills(answers) == [] and isinstance(answers[0], OrderCanceled)


def test_equity_is_initial_plus_realized_minus_fees_and_marks_unrealized_on_request():
    exchange = venue(initial_equity=1_000.0)
    long_position(exchange, qty=2.0)  # bought 2 at 100, bar closed at 101
    assert exchange.equity() == pytest.approx(1_000 - 200 * 0.0005)
    assert exchange.equity(mark_to_market=True) == pytest.approx(1_000 - 0.1 + 2.0)
    exchange.submit(order("exit", "sell", 2.0, reduce_only=True, purpose="exit"))
    step(exchange, bar(2, 110, 111, 109, 110))
    assert exchange.equity() == pytest.approx(1_000 + 20 - 0.1 - 220 * 0.0005)


@pytest.mark.parametrize(
    "submitted, reason",
    [
        (OrderSubmitted(ts=0, client_id="x", symbol="DOGE/USDT", side="buy", order_kind="market", qty=1,
                        purpose="entry"), "unknown_symbol"),
        (order("x", "buy", 0.0), "invalid_qty"),
        (order("x", "sell", 1.0, "stop_market", stop=None, reduce_only=True), "invalid_price"),
        (order("x", "sell", 1.0, "stop_market", stop=100.5, reduce_only=True), "would_trigger"),
        (order("x", "buy", 0.5), "min_notional"),  # 0.5 * 100 = 50 < 100 USDT for BTC/USDT
    ],
)
def test_invalid_orders_are_rejected_with_a_reason(submitted, reason):
    exchange = venue()
    step(exchange, bar(0, 100, 101, 99, 100))
    answers = exchange.submit(submitted)
    assert [(type(a), a.reason) for a in answers] == [(OrderRejected, reason)]
    assert exchange.fetch_order("x", submitted.symbol) is None


def test_duplicate_client_id_is_rejected_and_creates_no_second_order():
    exchange = venue()
    long_position(exchange)
    assert exchange.submit(order("entry", "buy", 1.0))[0].reason == "duplicate"
    assert exchange.open_orders(SYMBOL) == []


def test_cancel_is_answered_once_then_refused_as_unknown():
    exchange = venue()
    long_position(exchange)
    exchange.submit(order("stop", "sell", 1.0, "stop_market", stop=90.0, reduce_only=True))
    request = OrderCancelRequested(ts=5, client_id="stop", symbol=SYMBOL)
    assert isinstance(exchange.cancel(request)[0], OrderCanceled)
    again = exchange.cancel(request)[0]
    assert isinstance(again, OrderRejected) and again.reason == "unknown_order"
    assert exchange.fetch_order("stop", SYMBOL).status == "canceled"


def test_queries_report_orders_positions_and_fills():
    exchange = venue()
    long_position(exchange, qty=1.5)
    exchange.submit(order("stop", "sell", 1.5, "stop_market", stop=95.0, reduce_only=True, purpose="stop"))
    entry = exchange.fetch_order("entry", SYMBOL)
    assert (entry.status, entry.filled_qty, entry.avg_price) == ("filled", 1.5, 100.0)
    assert [(o.client_id, o.stop_price, o.reduce_only) for o in exchange.open_orders(SYMBOL)] == [("stop", 95.0, True)]
    assert [(p.symbol, p.side, p.qty, p.entry_price) for p in exchange.positions()] == [(SYMBOL, "long", 1.5, 100.0)]
    assert exchange.fetch_order("stop", "ETH/USDT") is None


def test_the_venue_names_itself_on_the_class_and_on_instances():
    # compiled by mypyc, a plain class attribute became a per-instance default: the class read a descriptor
    assert PaperExchange.name == "paper" and PaperExchange().name == "paper"
