"""A restart under an edited config keeps what the journal says was sent.

The operator stops the bot, edits a strategy knob (after `bot tune`, say) and starts it again. The
restart must fold the *recorded* decisions, not decide the old inputs again under the new settings:
otherwise the rebuilt order book differs from the venue's, reconciliation cancels the real stops as
strangers and client ids are spent twice. `journal replay` must then reproduce both sessions.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from cli.replay import replay_journal
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from exchange.paper_state import STATE_FILE
from journal.events import OrderSubmitted, ReconcileObserved
from journal.reader import read_events
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
SYMBOLS = ("BTC/USDT", "ETH/USDT")
CANDLES = load_candles(FIXTURES, SYMBOLS, "1h", bars=400)


def start(journal: Path, params: Params, token: str):
    spec = RunSpec(mode="paper", journal_dir=journal, params=params, symbols=SYMBOLS, timeframe="1h")
    venue = PaperExchange(state_path=journal / STATE_FILE)
    return assemble(spec, venue, SimClock(), FixedIds(token), durable=True, session_ts=CANDLES[0].ts)


def covered_by_stops(venue) -> dict[str, bool]:
    out = {}
    for position in venue.positions():
        stops = [o for o in venue.open_orders(position.symbol) if o.order_kind == "stop_market" and o.reduce_only]
        out[position.symbol] = sum(o.qty for o in stops) >= position.qty - 1e-9
    return out


@pytest.mark.parametrize("edited", [Params(), Params(donchian_len=15), Params(atr_trail_k=2.0),
                                    Params(initial_equity=50_000.0)],
                         ids=["unchanged", "donchian_len=15", "atr_trail_k=2.0", "initial_equity=50000"])
def test_restart_under_an_edited_config_keeps_the_live_stops_and_replays(tmp_path, edited):
    journal = tmp_path / "j"
    half = len(CANDLES) // 2
    first = start(journal, Params(), "first")
    for candle in CANDLES[:half]:
        first.loop.feed(candle)
    first.close()  # a clean stop with two open positions, each with its resting stop
    stops_before = {o.client_id for s in SYMBOLS for o in first.exchange.open_orders(s)}
    assert first.exchange.positions() and stops_before
    core_before = {s: (y.phase, y.stop_id, y.pos.qty if y.pos else 0.0) for s, y in first.loop.state.sym.items()}

    second = start(journal, edited, "second")
    # The core knows the same positions and the same live stops as before the stop, and nothing was canceled.
    assert {s: (y.phase, y.stop_id, y.pos.qty if y.pos else 0.0)
            for s, y in second.loop.state.sym.items()} == core_before
    assert {o.client_id for s in SYMBOLS for o in second.exchange.open_orders(s)} == stops_before
    assert all(covered_by_stops(second.exchange).values())
    reconciled = [e for e in read_events(journal) if isinstance(e, ReconcileObserved)]
    assert reconciled and not reconciled[-1].actions
    # Cash carries on from the journal's own start, whatever initial_equity now says.
    assert second.loop.state.cash == pytest.approx(first.loop.state.cash)

    for candle in CANDLES[half:]:
        if candle.ts > second.resume_after.get(candle.symbol, -1):
            second.loop.feed(candle)
    second.close()
    submitted = Counter(e.client_id for e in read_events(journal) if isinstance(e, OrderSubmitted))
    assert not [cid for cid, n in submitted.items() if n > 1]  # no client id decided twice
    result = replay_journal(journal)
    assert result.ok, [d.line() for d in result.divergences]
