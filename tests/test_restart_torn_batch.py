"""A power loss mid-batch: the torn tail keeps a trail move's new stop intent but cuts the old stop's cancel.
The restart must not keep two live stops (reconciliation cancels the superseded one once the new one rests,
so no reduce-only stop lingers after the position closes), and `journal replay` reports the cut decisions as
lost in the crash, not as divergences (they were never durable, so never sent)."""
from __future__ import annotations

import os
from pathlib import Path

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from journal.events import OrderCancelRequested
from journal.reader import read_events
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
CANDLES = load_candles(FIXTURES, ("BTC/USDT",), "1h", bars=400)
SYMBOL = "BTC/USDT"


class Died(Exception):
    pass


class DiesOnReplacement(PaperExchange):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.die = True

    def submit(self, order):
        resting = [o for o in self.open_orders(order.symbol) if o.order_kind == "stop_market"]
        if self.die and order.purpose == "stop" and resting:
            raise Died("power loss while the trail batch reached the disk")
        return super().submit(order)


def spec(path: Path) -> RunSpec:
    return RunSpec(mode="paper", journal_dir=path, params=Params(enable_pyramiding=False), symbols=(SYMBOL,),
                   timeframe="1h")


def stops(venue) -> list:
    return [o for o in venue.open_orders(SYMBOL) if o.order_kind == "stop_market"]


def test_a_torn_trail_batch_leaves_no_stale_stop_after_the_position_closes(tmp_path):
    venue = DiesOnReplacement()
    journal = tmp_path / "j"
    rt = assemble(spec(journal), venue, SimClock(), FixedIds("a"), durable=True, session_ts=CANDLES[0].ts)
    i = 0
    try:
        for i, candle in enumerate(CANDLES):
            rt.loop.feed(candle)
    except Died:
        pass
    rt.journal._close_fd()
    rt.journal._lock.release()
    last = list(read_events(journal))[-1]
    assert isinstance(last, OrderCancelRequested) and last.reason == "replaced"
    [seg] = sorted(journal.glob("*.seg"))[-1:]
    os.truncate(seg, seg.stat().st_size - 3)  # the cancel record never fully reached the disk
    venue.die = False

    rt2 = assemble(spec(journal), venue, SimClock(), FixedIds("b"), durable=True, session_ts=CANDLES[i].ts)
    try:
        live_stops = [c for c, r in rt2.loop.state.orders.items() if r.purpose == "stop" and not r.cancel_requested]
        assert len(live_stops) <= 1, f"the state tracks two live stops for one position: {live_stops}"
        for candle in CANDLES[i + 1:]:
            rt2.loop.feed(candle)
            if not venue.positions():
                assert not stops(venue), f"flat, yet reduce-only stops rest at the venue: {stops(venue)}"
    finally:
        rt2.close()


def test_a_journal_with_a_torn_decision_batch_still_replays(tmp_path):
    venue = DiesOnReplacement()
    journal = tmp_path / "j"
    rt = assemble(spec(journal), venue, SimClock(), FixedIds("a"), durable=True, session_ts=CANDLES[0].ts)
    i = 0
    try:
        for i, candle in enumerate(CANDLES):
            rt.loop.feed(candle)
    except Died:
        pass
    rt.journal._close_fd()
    rt.journal._lock.release()
    [seg] = sorted(journal.glob("*.seg"))[-1:]
    os.truncate(seg, seg.stat().st_size - 3)
    venue.die = False
    rt2 = assemble(spec(journal), venue, SimClock(), FixedIds("b"), durable=True, session_ts=CANDLES[i].ts)
    for candle in CANDLES[i + 1:]:
        rt2.loop.feed(candle)
    rt2.close()
    from cli.replay import replay_journal
    result = replay_journal(journal)
    assert result.ok, [d.line() for d in result.divergences][:5]
