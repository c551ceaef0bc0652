"""Live catch-up after downtime: an entry whose placement failed just before a venue outage is judged stale by
the market's newest closed bar (`loop.market_now`), not by the old bar being fed, and never reaches the venue
hours late."""
from __future__ import annotations

from pathlib import Path

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from cli.live_binance import VenueBarClock
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from journal.events import ErrorObserved
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
CANDLES = load_candles(FIXTURES, ("BTC/USDT",), "1h", bars=400)
BAR = 3_600_000


class OutageAfterEntry(PaperExchange):
    """The first entry's placement fails past the retries (the venue goes down right then)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lost: str | None = None
        self.placed: list[str] = []

    def submit(self, order):
        if order.purpose == "entry" and self.lost is None:
            self.lost = order.client_id
            return [ErrorObserved(ts=order.ts, reason="network", message="503 x3", symbol=order.symbol,
                                  client_id=order.client_id)]
        self.placed.append(order.client_id)
        return super().submit(order)


def test_an_entry_unanswered_before_an_outage_is_not_sent_during_the_catch_up(tmp_path):
    venue = OutageAfterEntry()
    spec = RunSpec(mode="testnet", journal_dir=tmp_path / "j", params=Params(), symbols=("BTC/USDT",),
                   timeframe="1h")
    rt = assemble(spec, venue, SimClock(), FixedIds("t"), durable=True, session_ts=CANDLES[0].ts)
    market = VenueBarClock(BAR)
    rt.loop.market_now = market.now_ms  # as cli.live_binance.run_session wires it
    try:
        k = 0
        for k, candle in enumerate(CANDLES):
            market.saw([candle])
            rt.loop.feed(candle)
            if venue.lost is not None:
                break
        assert venue.lost is not None and venue.lost in rt.loop.unanswered
        # The venue is unreachable for 10 hours; then one poll returns the 10 missed bars (trade_new_bars).
        missed = CANDLES[k + 1:k + 11]
        market.saw(missed)
        for candle in missed:
            rt.loop.feed(candle)
    finally:
        rt.close()
    assert venue.lost not in venue.placed, "an entry decided 10 bars ago reached the venue during the catch-up"
