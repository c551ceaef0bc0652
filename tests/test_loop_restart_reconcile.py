"""Crash-only restart, deterministically: the process 'dies' at the N-th order or cancel,
either before the venue got it (intent durable, never sent) or after the venue acted but
before its answer was recorded. The restarted bot must end with the fills of an
uninterrupted run, send no client id twice, and record what it reconciled."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cli.bootstrap import RunSpec, assemble, backtest_runtime
from cli.clock import FixedIds, SimClock
from cli.replay import replay_journal
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from exchange.paper_state import STATE_FILE
from journal.events import OrderCanceled, OrderFilled, OrderSubmitted, ReconcileObserved
from journal.reader import read_events
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
SYMBOLS = ("BTC/USDT", "ETH/USDT")
CANDLES = load_candles(FIXTURES, SYMBOLS, "1h", bars=400)


class Died(Exception):
    """The process died here."""


class MortalVenue(PaperExchange):
    """A paper venue whose host process dies at the N-th submit or cancel."""

    def __init__(self, *, die_on: str, nth: int, after_venue_acted: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.die_on, self.nth, self.after = die_on, nth, after_venue_acted
        self.calls = 0

    def _maybe_die(self, verb: str, act):
        if verb == self.die_on:
            self.calls += 1
            if self.calls == self.nth:
                if self.after:
                    act()
                raise Died(f"{verb} #{self.nth}")
        return act()

    def submit(self, order):
        return self._maybe_die("submit", lambda: PaperExchange.submit(self, order))

    def cancel(self, request):
        return self._maybe_die("cancel", lambda: PaperExchange.cancel(self, request))


def spec(journal: Path) -> RunSpec:
    return RunSpec(mode="paper", journal_dir=journal, params=Params(), symbols=SYMBOLS, timeframe="1h")


def start(journal: Path, venue: PaperExchange, token: str):
    return assemble(spec(journal), venue, SimClock(), FixedIds(token), durable=True, session_ts=CANDLES[0].ts)


def run_to_end(runtime) -> None:
    for candle in CANDLES:
        if candle.ts > runtime.resume_after.get(candle.symbol, -1):
            runtime.loop.feed(candle)
    runtime.close()


def die(runtime) -> None:
    """Process death: the fd and the lock go, nothing unflushed reaches the disk."""
    runtime.journal._close_fd()
    runtime.journal._lock.release()


def assert_every_position_has_a_stop(venue: PaperExchange) -> int:
    """After each bar, every open position has reduce-only stops covering it on the venue."""
    for position in venue.positions():
        stops = [o for o in venue.open_orders(position.symbol) if o.order_kind == "stop_market" and o.reduce_only]
        assert sum(o.qty for o in stops) >= position.qty - 1e-9, f"{position.symbol} unprotected"
    return len(venue.positions())


def fills(events) -> list[tuple]:
    return [(e.ts, e.symbol, e.side, e.qty, e.price, e.purpose) for e in events if isinstance(e, OrderFilled)]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> list[tuple]:
    journal = tmp_path_factory.mktemp("ref") / "j"
    runtime = backtest_runtime(spec(journal), CANDLES)
    run_to_end(runtime)
    return fills(read_events(journal))


@pytest.mark.parametrize("die_on, nth", [("submit", 1), ("submit", 2), ("submit", 7), ("submit", 12),
                                         ("cancel", 1), ("cancel", 4)])
@pytest.mark.parametrize("after_venue_acted", [False, True], ids=["before-venue", "after-venue"])
def test_a_restart_after_dying_mid_order_ends_like_an_uninterrupted_run(tmp_path, uninterrupted, die_on, nth,
                                                                       after_venue_acted):
    journal = tmp_path / "j"
    venue = MortalVenue(die_on=die_on, nth=nth, after_venue_acted=after_venue_acted, state_path=None)
    venue.state_path = journal / STATE_FILE
    runtime = start(journal, venue, "first")
    with pytest.raises(Died):
        run_to_end(runtime)
    die(runtime)

    venue = PaperExchange(state_path=journal / STATE_FILE)
    restarted = start(journal, venue, "second")
    assert restarted.restarted
    protected_bars = 0
    for candle in CANDLES:
        if candle.ts > restarted.resume_after.get(candle.symbol, -1):
            restarted.loop.feed(candle)
            protected_bars += assert_every_position_has_a_stop(venue)
    restarted.close()
    assert protected_bars > 0

    events = list(read_events(journal))
    assert fills(events) == uninterrupted and len(uninterrupted) > 10
    submitted = Counter(e.client_id for e in events if isinstance(e, OrderSubmitted))
    assert max(submitted.values()) == 1, "a client order id was decided twice"
    [observed] = [e for e in events if isinstance(e, ReconcileObserved)]
    if not after_venue_acted:  # the venue never saw it: the restart must have noticed and acted
        assert observed.differences and observed.actions
    assert replay_journal(journal).ok


def test_an_entry_that_never_left_is_not_sent_after_a_long_outage(tmp_path):
    """Died right after the first entry intent became durable; back three days later: the entry
    is recorded as canceled (`reconcile_stale`), never sent at today's prices, and the bot trades on."""
    journal = tmp_path / "j"
    venue = MortalVenue(die_on="submit", nth=1, after_venue_acted=False, state_path=None)
    venue.state_path = journal / STATE_FILE
    runtime = start(journal, venue, "first")
    with pytest.raises(Died):
        run_to_end(runtime)
    die(runtime)
    [intent] = [e for e in read_events(journal) if isinstance(e, OrderSubmitted)]
    assert intent.purpose == "entry"

    venue = PaperExchange(state_path=journal / STATE_FILE)
    later = intent.ts + 72 * 3_600_000
    restarted = assemble(spec(journal), venue, SimClock(), FixedIds("second"), durable=True, session_ts=later)
    for candle in CANDLES:
        if candle.ts > max(restarted.resume_after.get(candle.symbol, -1), later):
            restarted.loop.feed(candle)
    restarted.close()

    events = list(read_events(journal))
    [observed] = [e for e in events if isinstance(e, ReconcileObserved)]
    assert observed.differences[0]["found"] == "entry intent never reached the venue and is stale"
    stale = [e for e in events if isinstance(e, OrderCanceled) and e.client_id == intent.client_id]
    assert [e.reason for e in stale] == ["reconcile_stale"]
    assert not [f for f in events if isinstance(f, OrderFilled) and f.client_id == intent.client_id]
    assert any(isinstance(e, OrderFilled) for e in events)  # it trades on afterwards
    assert replay_journal(journal).ok
