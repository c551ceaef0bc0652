"""A stop whose cancel the loop holds (make before break) is never sent again: the core has dropped it, so a
flaky venue must not collect several full-size stops for one position."""
from __future__ import annotations

from conftest_loop import trade_all
from exchange.paper import PaperExchange
from journal.events import ErrorObserved


class LosesReplacementsTwice(PaperExchange):
    """A replacement stop's first two attempts never arrive (503 past the retries)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.tries: dict[str, int] = {}
        self.loop = None
        self.canceled_then_sent: list[str] = []

    def submit(self, order):
        rec = self.loop.state.orders.get(order.client_id) if self.loop else None
        if rec is not None and rec.cancel_requested:
            self.canceled_then_sent.append(order.client_id)
        resting = [o for o in self.open_orders(order.symbol) if o.order_kind == "stop_market"]
        if order.purpose == "stop" and (resting or order.client_id in self.tries):
            n = self.tries.get(order.client_id, 0)
            if n < 2:
                self.tries[order.client_id] = n + 1
                return [ErrorObserved(ts=order.ts, reason="network", message="503 x3", symbol=order.symbol,
                                      client_id=order.client_id)]
        return super().submit(order)


def test_no_order_is_sent_after_the_core_canceled_it(tmp_path):
    venue = LosesReplacementsTwice()
    trade_all(venue, tmp_path / "j")
    assert len(venue.tries) >= 3
    assert not venue.canceled_then_sent, f"sent after the core canceled them: {venue.canceled_then_sent}"


class Watch(LosesReplacementsTwice):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_stops = 0
        self.stale_resting = []

    def bar_closed(self, candle):
        answers = super().bar_closed(candle)
        stops = [o for o in self.open_orders(candle.symbol) if o.order_kind == "stop_market"]
        self.max_stops = max(self.max_stops, len(stops))
        for o in stops:
            rec = self.loop.state.orders.get(o.client_id)
            if rec is None:
                self.stale_resting.append((candle.ts, o.client_id))
        return answers


def test_stops_resting_at_the_venue_are_known_to_the_core(tmp_path):
    venue = Watch()
    trade_all(venue, tmp_path / "j")
    assert not venue.stale_resting, venue.stale_resting[:5]
