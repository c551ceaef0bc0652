"""Restart reconciliation with the real ccxt adapter against exchange-sim: what the previous process
left at the venue is picked up at once.

- An entry the venue filled just before a crash (fill unrecorded) is recorded at restart, and its
  stop is placed then, not when the next bar closes.
- A stop placed by the previous process that the venue later ends without a fill is reported, so
  the core re-places it (as it does without a restart)."""
from __future__ import annotations

import pandas as pd
import pytest

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from conftest_exchange import DATA, make_adapter, protected, start_sim
from exchange.binance import BinanceExchange
from journal.events import CandleClosed, OrderFilled, OrderSubmitted, ReconcileObserved
from journal.reader import read_events
from machine.params import Params

SYMBOL = "BTC/USDT"


class Died(Exception):
    pass


def candles(first: int, count: int) -> list[CandleClosed]:
    frame = pd.read_csv(DATA / "1h" / "BTC_USDT.csv").iloc[first:first + count]
    return [CandleClosed(ts=int(r.timestamp), symbol=SYMBOL, timeframe="1h", open=r.open, high=r.high, low=r.low,
                         close=r.close, volume=r.volume) for r in frame.itertuples()]


def spec(path) -> RunSpec:
    return RunSpec(mode="testnet", journal_dir=path, params=Params(), symbols=(SYMBOL,), timeframe="1h")


def in_position(sim) -> bool:
    return any(abs(p.qty) > 1e-12 for p in sim.venue.ledger.positions.values())



def test_an_entry_filled_before_a_crash_is_recorded_and_protected_at_restart(tmp_path):
    bars = candles(0, 400)
    journal = tmp_path / "j"
    sim = start_sim(start=bars[0].ts)
    try:
        adapter = make_adapter(sim.url)

        def submit(order):
            answers = BinanceExchange.submit(adapter, order)  # the venue fills the entry ...
            if order.purpose == "entry":
                raise Died("... and the process dies before its answer is recorded")
            return answers

        adapter.submit = submit
        runtime = assemble(spec(journal), adapter, SimClock(bars[0].ts), FixedIds("first"), durable=True,
                           session_ts=bars[0].ts)
        fed = 0
        try:
            for bar in bars:
                sim.step(1)
                runtime.loop.feed(bar)
                fed += 1
        except Died:
            pass
        runtime.journal._close_fd()  # process death: nothing unflushed reaches the disk
        runtime.journal._lock.release()
        assert in_position(sim) and not protected(sim)  # the crash window itself

        # a new process, back within the same bar
        restarted = assemble(spec(journal), make_adapter(sim.url), SimClock(bars[fed].ts), FixedIds("second"),
                             durable=True, session_ts=bars[fed].ts)
        assert protected(sim)  # before any new bar closes
        events = list(read_events(journal))
        [entry] = [e for e in events if isinstance(e, OrderSubmitted) and e.purpose == "entry"]
        [observed] = [e for e in events if isinstance(e, ReconcileObserved)]
        fills = [e for e in events if isinstance(e, OrderFilled) and e.client_id == entry.client_id]
        assert len(fills) == 1 and events.index(fills[0]) < events.index(observed)  # recorded before the observation
        assert restarted.loop.state.sym[SYMBOL].phase != "entering"
        sim.step(1)
        restarted.loop.feed(bars[fed + 1])  # the next poll reports the same trade: recorded once
        assert sum(isinstance(e, OrderFilled) and e.client_id == entry.client_id
                   for e in read_events(journal)) == 1
        restarted.close()
    finally:
        sim.stop()


@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "after-restart"])
def test_a_stop_the_venue_ends_is_replaced_with_or_without_a_restart(tmp_path, restart):
    bars = candles(0, 400)
    journal = tmp_path / "j"
    sim = start_sim(start=bars[0].ts)
    try:
        runtime = assemble(spec(journal), make_adapter(sim.url), SimClock(bars[0].ts), FixedIds("first"),
                           durable=True, session_ts=bars[0].ts)
        i = 0
        for i, bar in enumerate(bars[:117]):  # long from bar 113, its stop resting
            sim.step(1)
            runtime.loop.feed(bar)
        assert in_position(sim) and protected(sim)
        if restart:  # a clean stop and start (upgrade, host reboot)
            runtime.close()
            runtime = assemble(spec(journal), make_adapter(sim.url), SimClock(bars[i + 1].ts), FixedIds("second"),
                               durable=True, session_ts=bars[i + 1].ts)
        for order in list(sim.venue.algos.values()):  # the venue ends the resting stop without a fill
            if order.is_open and order.type == "STOP_MARKET":
                order.status = "CANCELED"
        unprotected_bars = 0
        for bar in bars[i + 1:i + 6]:
            sim.step(1)
            runtime.loop.feed(bar)
            if in_position(sim) and not protected(sim):
                unprotected_bars += 1
        runtime.close()
    finally:
        sim.stop()
    assert unprotected_bars == 0
