"""An operator re-anchor (`DailyAnchorResetRequested`) never anchors a day earlier than the current anchor: in
paper the request carries the last fed bar's open time, and after the 23:00 bar (whose close opened the new day)
it must anchor the new day, not the old one."""
from __future__ import annotations

from pathlib import Path

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from journal.events import DailyAnchorReset, DailyAnchorResetRequested
from journal.reader import read_events
from machine.decide_bar import utc_day
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
CANDLES = load_candles(FIXTURES, ("BTC/USDT",), "1h", bars=400)
DAY = 86_400_000
BAR = 3_600_000


def test_an_operator_reanchor_after_the_last_bar_of_a_day_anchors_the_new_day(tmp_path):
    spec = RunSpec(mode="paper", journal_dir=tmp_path / "j", params=Params(), symbols=("BTC/USDT",), timeframe="1h")
    rt = assemble(spec, PaperExchange(), SimClock(), FixedIds("t"), durable=False, session_ts=CANDLES[0].ts)
    try:
        k = next(i for i, c in enumerate(CANDLES) if i > 60 and (c.ts + BAR) % DAY == 0)  # the 23:00 bar
        for candle in CANDLES[:k + 1]:
            rt.loop.feed(candle)
        market_ts = CANDLES[k].ts  # what handle_operator_requests stamps on the request
        rt.loop.process([DailyAnchorResetRequested(ts=market_ts, reason="reset_daily")])
        rt.loop.feed(CANDLES[k + 1])
    finally:
        rt.close()
    anchors = [e for e in read_events(tmp_path / "j") if isinstance(e, DailyAnchorReset)]
    operator, after = anchors[-2], anchors[-1]
    new_day = (CANDLES[k].ts + BAR) // DAY
    assert after.day == utc_day(new_day)  # the operator's anchor is the new day's, and no bar replaced it
    assert after.ts != CANDLES[k + 1].ts, (
        f"operator anchor recorded for {operator.day}; the next bar re-anchored {after.day} at its close")
