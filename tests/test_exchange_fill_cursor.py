"""The trade cursor of the ccxt adapter never moves past a fill that has no event yet.

A trade of an order this process did not place (a stop placed before a restart, a manual order) is
mapped to its client id with GET /fapi/v1/order. When that lookup fails, the fill must come at a
later poll, the fills built before it must not be dropped, and the failed lookups are errors."""
from __future__ import annotations

from conftest_exchange import adapter, make_adapter, sim  # noqa: F401 - fixtures
from exchange.sim import routes
from exchange.sim.faults import FaultSpec
from exchange.sim.signing import ApiError
from journal.events import CandleClosed, ErrorObserved, OrderFilled, OrderSubmitted

H = 3_600_000


def order(sim, client_id, side="buy", kind="market", qty=0.01, **kw) -> OrderSubmitted:
    return OrderSubmitted(ts=sim.venue.forming, client_id=client_id, symbol="BTC/USDT", side=side, order_kind=kind,
                          qty=qty, purpose=kw.pop("purpose", "entry"), **kw)


def candle(ts: int) -> CandleClosed:
    return CandleClosed(ts=ts, symbol="BTC/USDT", timeframe="1h", open=0, high=0, low=0, close=0, volume=0)


def throttle_order_lookups(monkeypatch) -> None:
    def throttled(venue, params, now):
        raise ApiError(429, -1003, "Too many requests.")

    monkeypatch.setitem(routes.ROUTES, ("GET", "/fapi/v1/order"), (True, throttled))


def fills(events) -> list[str]:
    return [e.client_id for e in events if isinstance(e, OrderFilled)]


def test_a_stop_fill_after_a_restart_is_reported_once_the_failed_order_lookup_succeeds(sim, adapter, monkeypatch):
    entry = adapter.submit(order(sim, "r-1"))[1]
    adapter.submit(order(sim, "r-2", side="sell", kind="stop_market", stop_price=round(entry.price * 0.995, 1),
                         reduce_only=True, purpose="stop"))
    restarted = make_adapter(sim.url)  # knows neither order
    restarted.load_markets(["BTC/USDT"], ts=0)
    fired_in = None
    for _ in range(200):  # step until the stop fires
        bar, before = sim.venue.forming, len(sim.venue.ledger.trades)
        sim.step(1)
        if len(sim.venue.ledger.trades) > before:
            fired_in = bar
            break
    assert fired_in is not None
    throttle_order_lookups(monkeypatch)
    first = restarted.advance(candle(fired_in))
    monkeypatch.undo()
    sim.step(1)
    second = restarted.advance(candle(fired_in + H))  # starts again at the trade it could not map
    third = restarted.advance(candle(fired_in + 2 * H))
    assert fills(first) == [] and {e.reason for e in first if isinstance(e, ErrorObserved)} == {"rate_limit"}
    assert fills(second) == ["r-2"] and fills(third) == []


def test_fills_before_a_failed_lookup_in_the_same_batch_are_kept_and_the_rest_come_next_poll(sim, adapter,
                                                                                            monkeypatch):
    stranger = make_adapter(sim.url)  # another process (before a restart) or a manual order
    stranger.load_markets(["BTC/USDT"], ts=0)
    sim.set_faults(FaultSpec(rates={"partial_fill": 1.0}))
    adapter.submit(order(sim, "r-1"))  # trade 1 now; its rest (trade 2) at the next bar's open
    sim.set_faults(FaultSpec())
    sim.step(1)
    bar = sim.venue.forming
    stranger.submit(order(sim, "x-1"))  # trade 3: mapping it needs a lookup
    throttle_order_lookups(monkeypatch)
    sim.step(1)
    first = adapter.advance(candle(bar))
    monkeypatch.undo()
    sim.step(1)
    second = adapter.advance(candle(bar + H))
    assert fills(first) == ["r-1"]  # built before the failed lookup: kept
    assert [e.reason for e in first if isinstance(e, ErrorObserved)] == ["rate_limit"] * 3  # the kill switch sees them
    assert fills(second) == ["x-1"]  # the trade the cursor stopped at
