"""After downtime, one poll returns every missed bar and the live loop feeds them in order. The core
decides on each (stops trail, positions close), but an entry decided on any bar older than the newest
closed one is stale: it is recorded as canceled (`stale_intent`), never sent at today's prices.
Driven through `cli.live_binance.trade_new_bars` with the real ccxt client against the exchange sim."""
from __future__ import annotations

import pandas as pd

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from cli.live_binance import VenueBarClock, trade_new_bars
from cli.replay import replay_journal
from conftest_exchange import DATA, make_adapter, start_sim
from journal.events import CandleClosed, OrderCanceled, OrderSubmitted, SignalDetected
from journal.reader import read_events
from machine.params import Params

SYMBOL = "BTC/USDT"
BAR = 3_600_000


def candles(count: int) -> list[CandleClosed]:
    frame = pd.read_csv(DATA / "1h" / "BTC_USDT.csv").iloc[:count]
    return [CandleClosed(ts=int(r.timestamp), symbol=SYMBOL, timeframe="1h", open=r.open, high=r.high, low=r.low,
                         close=r.close, volume=r.volume) for r in frame.itertuples()]


def spec(journal) -> RunSpec:
    return RunSpec(mode="testnet", journal_dir=journal, params=Params(), symbols=(SYMBOL,), timeframe="1h")


def test_a_catch_up_after_downtime_sends_no_entry_for_a_bar_long_gone(tmp_path):
    bars = candles(400)
    journal = tmp_path / "j"
    sim = start_sim(start=bars[0].ts)
    try:
        first = assemble(spec(journal), make_adapter(sim.url), SimClock(bars[0].ts), FixedIds("first"),
                         durable=True, session_ts=bars[0].ts)
        for bar in bars[:210]:
            sim.step(1)
            first.loop.feed(bar)
        first.close()  # a clean stop, then the host is down for 60 hours
        sim.step(60)
        now = sim.venue.forming
        second = assemble(spec(journal), make_adapter(sim.url), SimClock(now), FixedIds("second"), durable=True,
                          session_ts=now)
        market = VenueBarClock(BAR)
        second.loop.market_now = market.now_ms  # as cli.live_binance.run_session wires it
        last = dict(second.resume_after)
        fed = trade_new_bars(second.exchange, second.loop, (SYMBOL,), "1h", last, market, now)
        second.close()
        at_venue = {o.client_id for o in sim.venue.orders.values()}
    finally:
        sim.stop()
    assert fed >= 59
    events = list(read_events(journal))
    newest = max(e.ts for e in events if isinstance(e, CandleClosed))
    late = [e for e in events if isinstance(e, OrderSubmitted) and e.purpose in ("entry", "pyramid")
            and bars[209].ts < e.ts < newest]
    assert late, "the fixture should break out during the downtime"
    canceled = {e.client_id for e in events if isinstance(e, OrderCanceled) and e.reason == "stale_intent"}
    for intent in late:
        assert intent.client_id not in at_venue, f"{intent.client_id} (bar {intent.ts}) reached the venue"
        assert intent.client_id in canceled
    assert any(isinstance(e, SignalDetected) and e.ts > bars[209].ts for e in events)
    assert replay_journal(journal).ok
