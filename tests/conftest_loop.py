"""Shared by the run-loop tests: the fixture candles, a venue that loses the first order of a purpose,
and the paper loop fed every candle."""
from __future__ import annotations

from pathlib import Path

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from journal.events import ErrorObserved
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
CANDLES = load_candles(FIXTURES, ("BTC/USDT",), "1h", bars=400)


class LosesFirst(PaperExchange):
    """The first order with `purpose` never reaches the venue on its first `failures` placement attempts (a venue
    outage: 5xx past the retries, only errors come back); the loop resends it once per bar. `lost` is its client
    id; `placed` every id that did arrive."""

    def __init__(self, purpose: str, failures: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.purpose = purpose
        self.failures = failures
        self.lost: str | None = None
        self.placed: list[str] = []

    def submit(self, order):
        if order.purpose == self.purpose and self.lost is None:
            self.lost = order.client_id
        if order.client_id == self.lost and self.failures > 0:
            self.failures -= 1
            return [ErrorObserved(ts=order.ts, reason="network", message="503 x3", symbol=order.symbol,
                                  client_id=order.client_id)]
        self.placed.append(order.client_id)
        return super().submit(order)


def trade_all(venue, journal: Path, params: Params | None = None):
    """Every fixture candle through the paper loop wired to `venue` (which may watch the loop: `venue.loop`);
    returns the venue."""
    spec = RunSpec(mode="paper", journal_dir=journal, params=params or Params(), symbols=("BTC/USDT",),
                   timeframe="1h")
    runtime = assemble(spec, venue, SimClock(), FixedIds("t"), durable=False, session_ts=CANDLES[0].ts)
    venue.loop = runtime.loop
    try:
        for candle in CANDLES:
            runtime.loop.feed(candle)
    finally:
        runtime.close()
    return venue
