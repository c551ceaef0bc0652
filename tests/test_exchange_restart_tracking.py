"""A restarted ccxt adapter and the orders an earlier process left at the venue (exchange-sim).

Restart reconciliation hands it each live order (`track`) and asks for fills the journal may miss
(`order_fills`); a cancel of an order the venue already ended reports that end."""
from __future__ import annotations

from conftest_exchange import adapter, make_adapter, sim  # noqa: F401 - fixtures
from journal.events import CandleClosed, OrderCanceled, OrderCancelRequested, OrderFilled, OrderSubmitted


def order(sim, client_id, side="buy", kind="market", qty=0.01, **kw) -> OrderSubmitted:
    return OrderSubmitted(ts=sim.venue.forming, client_id=client_id, symbol="BTC/USDT", side=side, order_kind=kind,
                          qty=qty, purpose=kw.pop("purpose", "entry"), **kw)


def candle(ts: int) -> CandleClosed:
    return CandleClosed(ts=ts, symbol="BTC/USDT", timeframe="1h", open=0, high=0, low=0, close=0, volume=0)


def with_stop_and_take_profit(sim, exchange) -> list[OrderSubmitted]:
    entry = order(sim, "r-1")
    price = exchange.submit(entry)[1].price
    stop = order(sim, "r-2", side="sell", kind="stop_market", stop_price=round(price * 0.995, 1), reduce_only=True,
                 purpose="stop")
    take_profit = order(sim, "r-3", side="sell", kind="take_profit_market", stop_price=round(price * 1.5, 1),
                        reduce_only=True, purpose="take_profit")
    exchange.submit(stop)
    exchange.submit(take_profit)
    return [entry, stop, take_profit]


def restarted_tracking(sim, orders: list[OrderSubmitted]):
    """A new process, handed the live orders as reconciliation does."""
    fresh = make_adapter(sim.url)
    fresh.load_markets(["BTC/USDT"], ts=0)
    for placed in orders:
        status = fresh.fetch_order(placed.client_id, placed.symbol)
        if status is not None:
            fresh.track(placed, status)
    return fresh


def canceled(events) -> list[tuple[str, str]]:
    return [(e.client_id, e.reason) for e in events if isinstance(e, OrderCanceled)]


def test_a_tracked_stop_of_the_previous_process_that_the_venue_cancels_is_reported(sim, adapter):
    placed = with_stop_and_take_profit(sim, adapter)
    restarted = restarted_tracking(sim, placed[1:])
    adapter.venue.client.cancel_order(None, "BTC/USDT:USDT", {"clientAlgoId": "r-2", "trigger": True})  # e.g. the UI
    bar = sim.venue.forming
    sim.step(1)
    assert canceled(restarted.advance(candle(bar))) == [("r-2", "venue")]  # the core re-places its stop


def test_a_tracked_take_profit_the_venue_expires_when_the_stop_fills_is_reported(sim, adapter):
    placed = with_stop_and_take_profit(sim, adapter)
    restarted = restarted_tracking(sim, placed[1:])
    reported = []
    for _ in range(200):  # until the stop fires (the venue then expires the reduce-only take-profit)
        bar = sim.venue.forming
        sim.step(1)
        reported += restarted.advance(candle(bar))
        if any(isinstance(e, OrderFilled) and e.client_id == "r-2" for e in reported):
            break
    stop_fills = [e.purpose for e in reported if isinstance(e, OrderFilled) and e.client_id == "r-2"]
    assert stop_fills == ["stop"] and canceled(reported) == [("r-3", "expired")]


def test_cancel_of_an_order_the_venue_expired_reports_it_ended(sim, adapter):
    with_stop_and_take_profit(sim, adapter)
    restarted = make_adapter(sim.url)  # not even tracked: the cancel itself finds out
    restarted.load_markets(["BTC/USDT"], ts=0)
    [take_profit] = [o for o in sim.venue.algos.values() if o.client_id == "r-3"]
    take_profit.status = "EXPIRED"
    events = restarted.cancel(OrderCancelRequested(ts=1, client_id="r-3", symbol="BTC/USDT"))
    assert [type(e) for e in events] == [OrderCanceled] and canceled(events) == [("r-3", "venue_expired")]


def test_order_fills_of_a_previous_process_order_use_the_poll_fill_ids_and_are_not_polled_again(sim, adapter):
    entry = order(sim, "r-1")
    [first] = [e for e in adapter.submit(entry) if isinstance(e, OrderFilled)]
    restarted = make_adapter(sim.url)
    restarted.load_markets(["BTC/USDT"], ts=0)
    recovered = restarted.order_fills(entry, ts=sim.venue.forming)
    assert [(e.fill_id, e.purpose, e.qty, e.cum_qty) for e in recovered] == [(first.fill_id, "entry", 0.01, 0.01)]
    bar = sim.venue.forming
    sim.step(1)
    assert [e for e in restarted.advance(candle(bar)) if isinstance(e, OrderFilled)] == []
