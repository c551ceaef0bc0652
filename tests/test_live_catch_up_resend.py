"""Live catch-up after downtime: an entry whose placement failed just before a venue outage is judged stale by
the market's newest closed bar (`loop.market_now`), not by the old bar being fed, and never reaches the venue
hours late."""
from __future__ import annotations

from conftest_loop import CANDLES, LosesFirst
from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from cli.live_binance import VenueBarClock
from machine.params import Params

BAR = 3_600_000


def test_an_entry_unanswered_before_an_outage_is_not_sent_during_the_catch_up(tmp_path):
    venue = LosesFirst("entry")  # the venue goes down right as the entry is placed
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
