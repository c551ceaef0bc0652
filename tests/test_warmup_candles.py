"""Warm-up candles (live start-up history) prime the indicators but never produce a decision."""
from __future__ import annotations

import msgspec

from journal.events import CandleClosed
from machine.decider import decide, initial_state, step
from machine.params import Params

HOUR = 3_600_000


def candles(warmup: bool) -> list[CandleClosed]:
    """25 quiet bars, then a close far above the channel: a long breakout on the last bar."""
    rows = [CandleClosed(ts=i * HOUR, symbol="BTC/USDT", timeframe="1h", open=100.0, high=101.0, low=99.0,
                         close=100.0, volume=1.0, warmup=warmup) for i in range(25)]
    rows.append(CandleClosed(ts=25 * HOUR, symbol="BTC/USDT", timeframe="1h", open=100.0, high=120.0, low=99.0,
                             close=119.0, volume=1.0, warmup=warmup))
    return rows


def run(stream):
    params, state, out = Params(), initial_state(Params()), []
    for candle in stream:
        state, decided = step(state, candle, params)
        out.extend(decided)
    return state, out


def test_breakout_on_a_live_candle_trades():
    _, decided = run(candles(warmup=False))
    assert any(type(d).__name__ == "SignalDetected" for d in decided)


def test_breakout_on_a_warmup_candle_decides_nothing():
    state, decided = run(candles(warmup=True))
    assert decided == []
    assert decide(state, candles(True)[-1], Params()) == []


def test_warmup_primes_the_indicators_for_the_first_live_bar():
    history = candles(warmup=True)[:-1]
    breakout = msgspec.structs.replace(candles(warmup=False)[-1])
    _, decided = run([*history, breakout])
    assert any(type(d).__name__ == "SignalDetected" for d in decided)
