"""Make before break across a restart: a replaced stop whose replacement never rested at the venue (refused,
fallback refused, symbol halted) stays the position's protection after a restart; reconciliation holds its
recorded cancel instead of sending it."""
from __future__ import annotations

from pathlib import Path

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from journal.events import Halted, OrderRejected
from journal.reader import read_events
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
CANDLES = load_candles(FIXTURES, ("BTC/USDT",), "1h", bars=400)


class RefusesReplacementStops(PaperExchange):
    """Once armed, every stop placed while another stop rests is refused (e.g. -2027 margin / a rule)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.armed = False
        self.refused: list[str] = []

    def submit(self, order):
        resting = [o for o in self.open_orders(order.symbol) if o.order_kind == "stop_market"]
        if self.armed and order.purpose == "stop" and resting:
            self.refused.append(order.client_id)
            return [OrderRejected(ts=order.ts, client_id=order.client_id, symbol=order.symbol, reason="rejected",
                                  code=-2010, message="refused")]
        return super().submit(order)


def spec(path: Path) -> RunSpec:
    return RunSpec(mode="paper", journal_dir=path, params=Params(), symbols=("BTC/USDT",), timeframe="1h")


def stops(venue) -> list:
    return [o for o in venue.open_orders("BTC/USDT") if o.order_kind == "stop_market"]


def test_old_stop_still_protects_a_halted_position_after_a_restart(tmp_path):
    venue = RefusesReplacementStops()
    journal = tmp_path / "j"
    rt = assemble(spec(journal), venue, SimClock(), FixedIds("a"), durable=True, session_ts=CANDLES[0].ts)
    i = 0
    for i, candle in enumerate(CANDLES):
        rt.loop.feed(candle)
        if venue.positions() and stops(venue):
            venue.armed = True  # from now on the replacement (and its fallback) are refused
        if any(isinstance(e, Halted) for e in read_events(journal)):
            break
    assert venue.refused, "the fixture should trail a stop"
    assert any(isinstance(e, Halted) for e in read_events(journal)), "replacement + fallback refused: halted"
    assert venue.positions() and len(stops(venue)) == 1, "running: the old stop keeps protecting (held cancel)"
    assert rt.loop.held_cancels
    rt.close()  # a clean restart (deploy, host reboot)

    rt2 = assemble(spec(journal), venue, SimClock(), FixedIds("b"), durable=True,
                   session_ts=CANDLES[i + 1].ts)
    try:
        assert venue.positions(), "still in the position"
        assert stops(venue), "after the restart the halted position has no stop at the venue (naked)"
    finally:
        rt2.close()
