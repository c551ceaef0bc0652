"""An order intent whose every attempt failed before the venue answered is sent again next bar.

The core believes the order is live (a stop, say), so silently dropping it would leave a position naked
until a restart — the fault soak caught exactly that. The resend uses the same client id (adapters look it
up first), stops once the venue answers, and never resends what the core has since canceled."""
from __future__ import annotations

from conftest_loop import LosesFirst, trade_all
from cli.replay import replay_journal
from exchange.paper import PaperExchange
from journal.events import ErrorObserved, OrderAccepted, OrderCanceled, OrderSubmitted
from journal.reader import read_events
from machine.params import Params


def test_a_stop_the_venue_never_answered_is_sent_again_with_the_same_client_id(tmp_path):
    # no trail, breakeven or pyramid: nothing else would replace the lost stop
    venue = trade_all(LosesFirst("stop"), tmp_path / "j",
                      Params(atr_trail_k=1000.0, breakeven_atr_k=1000.0, enable_pyramiding=False))
    assert venue.lost is not None, "the strategy should place a stop in 400 bars"
    events = list(read_events(tmp_path / "j"))
    assert venue.placed.count(venue.lost) == 1, "resent exactly once, then answered"
    assert any(isinstance(e, OrderAccepted) and e.client_id == venue.lost for e in events)
    assert sum(isinstance(e, OrderSubmitted) and e.client_id == venue.lost for e in events) == 1  # one intent
    assert replay_journal(tmp_path / "j").ok


def test_an_entry_lost_in_a_long_outage_is_recorded_stale_not_sent_hours_late(tmp_path):
    venue = trade_all(LosesFirst("entry", failures=2), tmp_path / "j")  # the decision bar and the next fail; the third try would land
    assert venue.lost is not None
    events = list(read_events(tmp_path / "j"))
    assert venue.lost not in venue.placed, "a stale entry must never reach the venue"
    [stale] = [e for e in events if isinstance(e, OrderCanceled) and e.client_id == venue.lost]
    assert stale.reason == "stale_intent"
    assert any(isinstance(e, OrderAccepted) for e in events)  # trading resumed after the outage
    assert replay_journal(tmp_path / "j").ok


def test_an_entry_lost_for_one_bar_is_still_sent(tmp_path):
    venue = trade_all(LosesFirst("entry", failures=1), tmp_path / "j")  # the retry at the next bar reaches the venue
    assert venue.lost in venue.placed
    events = list(read_events(tmp_path / "j"))
    assert not [e for e in events if isinstance(e, OrderCanceled) and e.reason == "stale_intent"]


class LookupFailsOnce(LosesFirst):
    """As LosesFirst("entry"), and the first lookup of the lost entry fails too (a read timeout)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("entry", **kwargs)
        self.lookup_failures = 1

    def fetch_order(self, client_id, symbol):
        if client_id == self.lost and self.lookup_failures:
            self.lookup_failures -= 1
            raise ConnectionError("read timeout")
        return super().fetch_order(client_id, symbol)


def test_a_stale_entry_is_not_sent_when_the_venue_cannot_say_whether_it_arrived(tmp_path):
    # A failed lookup proves nothing: the stale entry waits for the next bar's lookup, never goes out blind.
    venue = trade_all(LookupFailsOnce(failures=2), tmp_path / "j")
    assert venue.lost is not None and venue.lookup_failures == 0
    assert venue.lost not in venue.placed
    events = list(read_events(tmp_path / "j"))
    assert any(isinstance(e, OrderCanceled) and e.client_id == venue.lost and e.reason == "stale_intent"
               for e in events)
    assert replay_journal(tmp_path / "j").ok


class LosesReplacementStops(PaperExchange):
    """Every replacement stop (one placed while another stop of the symbol rests) fails its first
    attempt before it arrives; the loop sends it again at the next bar."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lost: set[str] = set()
        self.naked_closes = 0

    def submit(self, order):
        resting = [o for o in self.open_orders(order.symbol) if o.order_kind == "stop_market"]
        if order.purpose == "stop" and resting and order.client_id not in self.lost:
            self.lost.add(order.client_id)
            return [ErrorObserved(ts=order.ts, reason="network", message="503 x3", symbol=order.symbol,
                                  client_id=order.client_id)]
        return super().submit(order)

    def bar_closed(self, candle):
        answers = super().bar_closed(candle)
        for position in self.positions():
            stops = [o for o in self.open_orders(position.symbol) if o.order_kind == "stop_market"]
            if not stops:  # a pyramid's resize that did not arrive leaves the old, smaller stop: not naked
                self.naked_closes += 1
        return answers


def test_a_replaced_stop_keeps_protecting_until_its_replacement_rests_at_the_venue(tmp_path):
    # Make before break: a trail move or pyramid resize whose new stop does not arrive must not leave the
    # position naked for a bar; the old stop's cancel waits for the new stop's acceptance.
    venue = trade_all(LosesReplacementStops(), tmp_path / "j")
    assert len(venue.lost) >= 3, "the fixture should move stops several times"
    assert venue.naked_closes == 0
    events = list(read_events(tmp_path / "j"))
    for lost in venue.lost:  # each lost replacement was sent again and accepted
        assert any(isinstance(e, OrderAccepted) and e.client_id == lost for e in events)
    assert not [o for s in ("BTC/USDT",) for o in venue.open_orders(s)
                if o.order_kind == "stop_market" and not venue.positions()]
    assert replay_journal(tmp_path / "j").ok
