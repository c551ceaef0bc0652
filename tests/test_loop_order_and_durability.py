"""The run loop: intents are durable before the venue sees them, venue answers precede
the close they happened in, and every input is followed by exactly its decisions."""
from __future__ import annotations

from pathlib import Path

from cli.loop import RunLoop
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from journal.events import (
    CandleClosed, OrderCancelRequested, OrderFilled, OrderSubmitted, SessionStarted, is_input,
)
from machine.decider import step
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"


class SpyJournal:
    """Records appends; remembers which events were durable (by identity)."""

    def __init__(self) -> None:
        self.events: list = []
        self.durable_upto = 0

    def append(self, events, durable=False):
        self.events.extend(events)
        if durable:
            self.durable_upto = len(self.events)

    def flush(self) -> None:
        self.durable_upto = len(self.events)

    def is_durable(self, event) -> bool:
        return any(e is event for e in self.events[: self.durable_upto])


class CheckingVenue(PaperExchange):
    """A paper venue that checks, at the moment an intent arrives, that it is on disk."""

    def __init__(self, journal: SpyJournal, **kwargs) -> None:
        super().__init__(**kwargs)
        self.journal = journal
        self.received: list = []

    def submit(self, order):
        assert self.journal.is_durable(order), f"{order.client_id} sent before it was durable"
        self.received.append(order)
        return super().submit(order)

    def cancel(self, request):
        assert self.journal.is_durable(request), f"cancel of {request.client_id} sent before it was durable"
        self.received.append(request)
        return super().cancel(request)


def run(durable: bool, bars: int = 600) -> tuple[SpyJournal, CheckingVenue, RunLoop]:
    journal = SpyJournal()
    venue = CheckingVenue(journal) if durable else PaperExchange()
    loop = RunLoop(exchange=venue, journal=journal, params=Params(), durable=durable)
    candles = load_candles(FIXTURES, ["BTC/USDT", "ETH/USDT"], "1h", bars=bars)
    loop.start(SessionStarted(ts=candles[0].ts, run_id="t", mode="paper", version="t", config_digest="-",
                              symbols=("BTC/USDT", "ETH/USDT")))
    for candle in candles:
        loop.feed(candle)
    loop.flush()
    return journal, venue, loop


def test_every_order_intent_is_durable_before_the_venue_sees_it():
    journal, venue, _ = run(durable=True)
    sent = [e for e in venue.received if isinstance(e, OrderSubmitted)]
    assert len(sent) > 20  # the demo candles trade: the check above really ran
    assert any(isinstance(e, OrderCancelRequested) for e in venue.received)


def test_each_intent_reaches_the_venue_once_in_decision_order():
    journal, venue, _ = run(durable=True)
    decided = [e for e in journal.events if isinstance(e, (OrderSubmitted, OrderCancelRequested))]
    assert [id(e) for e in decided] == [id(e) for e in venue.received]


def test_a_bars_fills_are_recorded_before_its_close():
    journal, _, _ = run(durable=False)
    events = journal.events
    closes = {(e.symbol, e.ts): i for i, e in enumerate(events) if isinstance(e, CandleClosed)}
    fills = [(i, e) for i, e in enumerate(events) if isinstance(e, OrderFilled)]
    assert fills
    for index, fill in fills:
        assert index < closes[(fill.symbol, fill.ts)], f"fill {fill.fill_id} recorded after its bar closed"


def test_decisions_follow_their_input_so_replay_reproduces_them():
    journal, _, loop = run(durable=False)
    params = loop.params
    state, expected, replayed = None, [], []
    from machine.decider import initial_state

    state = initial_state(params)
    for event in journal.events:
        if is_input(event):
            assert replayed == expected, "decisions of the previous input were interleaved"
            state, decisions = step(state, event, params)
            expected, replayed = list(decisions), []
        else:
            replayed.append(event)
    assert replayed == expected and state == loop.state


def test_backtest_mode_never_asks_for_an_fsync_mid_run():
    journal, _, _ = run(durable=False, bars=200)
    assert journal.durable_upto == 0 and len(journal.events) > 400
