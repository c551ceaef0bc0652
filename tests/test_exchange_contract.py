"""One contract, two venues: the paper exchange and the ccxt adapter + exchange-sim get
the same orders on the same candles and must report the same fills, cancels and positions.

The driver behaves like the live loop: entries are sent after a bar closed, and the
protective stop and take-profit go out as soon as the entry's fill is reported (paper:
during `advance` of the next bar; live: in the answer to the market order)."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest_exchange import DATA, make_adapter, start_sim
from exchange.paper import PaperExchange
from journal.events import CandleClosed, OrderCanceled, OrderFilled, OrderSubmitted

SYMBOL = "BTC/USDT"
START = 500


def candles(count: int) -> list[CandleClosed]:
    frame = pd.read_csv(DATA / "1h" / "BTC_USDT.csv").iloc[START:START + count]
    return [CandleClosed(ts=int(r.timestamp), symbol=SYMBOL, timeframe="1h", open=r.open, high=r.high, low=r.low,
                         close=r.close, volume=r.volume) for r in frame.itertuples()]


class PaperVenue:
    def __init__(self, bars):
        self.exchange = PaperExchange()

    def advance(self, candle):
        return self.exchange.advance(candle)

    def close(self):
        pass


class SimVenue:
    """Adapter + sim; the sim's clock is stepped past each bar before the adapter polls it."""

    def __init__(self, bars):
        self.sim = start_sim(start=bars[0].ts)
        self.exchange = make_adapter(self.sim.url)

    def advance(self, candle):
        self.sim.step(1)
        return self.exchange.advance(candle)

    def close(self):
        self.sim.stop()


def run(venue_cls, bars, plan):
    venue = venue_cls(bars)
    exchange = venue.exchange
    exchange.load_markets([SYMBOL], ts=bars[0].ts)
    seen: list = []
    counter = iter(range(1, 10_000))

    def order(ts, side, kind, qty, purpose, stop=None, reduce_only=False):
        return OrderSubmitted(ts=ts, client_id=f"c-{next(counter):04d}", symbol=SYMBOL, side=side, order_kind=kind,
                              qty=qty, purpose=purpose, stop_price=stop, reduce_only=reduce_only)

    def react(events, ts):
        for event in events:
            seen.append(event)
            if isinstance(event, OrderFilled) and event.purpose == "entry" and event.cum_qty == event.order_qty:
                long = event.side == "buy"
                exit_side = "sell" if long else "buy"
                stop = round(event.price * (0.994 if long else 1.006), 1)
                target = round(event.price * (1.012 if long else 0.988), 1)
                react(exchange.submit(order(ts, exit_side, "stop_market", event.qty, "stop", stop, True)), ts)
                react(exchange.submit(order(ts, exit_side, "take_profit_market", event.qty, "take_profit", target,
                                            True)), ts)

    try:
        for bar in bars:
            if bar.ts in plan:
                react(exchange.submit(order(bar.ts, plan[bar.ts], "market", 0.01, "entry")), bar.ts)
            react(venue.advance(bar), bar.ts)
            react(exchange.bar_closed(bar), bar.ts)
        positions = [(p.symbol, p.side, round(p.qty, 9), round(p.entry_price, 6)) for p in exchange.positions()]
    finally:
        venue.close()
    fills = sorted((e.ts, e.client_id, e.side, round(e.qty, 9), round(e.price, 6), e.purpose, e.fee)
                   for e in seen if isinstance(e, OrderFilled))
    canceled = sorted(e.client_id for e in seen if isinstance(e, OrderCanceled))
    return fills, canceled, positions


@pytest.fixture(scope="module")
def bars():
    return candles(120)


@pytest.fixture(scope="module")
def paper_result(bars):
    return run(PaperVenue, bars, plan_for(bars))


def plan_for(bars):
    return {bars[0].ts: "buy", bars[40].ts: "sell", bars[80].ts: "buy", bars[119].ts: "sell"}


@pytest.mark.parametrize("venue", [PaperVenue, SimVenue], ids=["paper", "ccxt+sim"])
def test_same_orders_give_same_fills_cancels_and_positions(venue, bars, paper_result):
    fills, canceled, positions = run(venue, bars, plan_for(bars))
    assert len(fills) >= 6  # three round trips and an open position: the scenario exercises exits
    assert {f[-2] for f in fills} >= {"entry", "stop"}
    expected_fills, expected_canceled, expected_positions = paper_result
    assert [f[:-1] for f in fills] == [f[:-1] for f in expected_fills]
    assert [f[-1] for f in fills] == pytest.approx([f[-1] for f in expected_fills], abs=1e-6)  # fees (venue rounding)
    assert (canceled, positions) == (expected_canceled, expected_positions)
