"""The backtest run id: a digest of the rules and of every candle value, exact to the bit."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from cli.bootstrap import backtest_run_id
from journal.events import CandleClosed
from machine.params import Params


def candle(**fields) -> CandleClosed:
    values = dict(ts=1, symbol="BTC/USDT", timeframe="1h", open=1.0, high=2.0, low=0.5, close=1.5, volume=3.0)
    values.update(fields)
    return CandleClosed(**values)


def test_run_id_is_pinned_for_known_candles():
    # Pinned: the id is inside every backtest journal (session, client ids), so changing how it is
    # derived changes every backtest's content digest (bench/decision_identity.sh pins those too).
    candles = [candle(), candle(ts=2, symbol="ETH/USDT", open=3360.1, volume=0.0)]
    assert backtest_run_id(Params(), candles) == "ca032e249cae"
    assert backtest_run_id(Params(), tuple(candles)) == backtest_run_id(Params(), list(candles))


def test_no_candles_hash_the_params_only():
    assert backtest_run_id(Params(), []) != backtest_run_id(Params(donchian_len=21), [])


@pytest.mark.parametrize("field", ["ts", "open", "high", "low", "close", "volume"])
def test_any_candle_value_changes_the_id(field):
    base = [candle(), candle(ts=2)]
    changed = [candle(), candle(**{"ts": 2, field: getattr(candle(ts=2), field) + 1})]
    assert backtest_run_id(Params(), changed) != backtest_run_id(Params(), base)


def test_the_symbol_and_the_order_of_candles_change_the_id():
    a, b = candle(), candle(ts=2)
    assert backtest_run_id(Params(), [a, b]) != backtest_run_id(Params(), [b, a])
    assert backtest_run_id(Params(), [a]) != backtest_run_id(Params(), [candle(symbol="ETH/USDT")])


def test_signed_zero_is_a_different_candle():
    assert backtest_run_id(Params(), [candle(volume=0.0)]) != backtest_run_id(Params(), [candle(volume=-0.0)])


@given(st.lists(st.tuples(st.integers(0, 2**62), *[st.floats(allow_nan=False)] * 5), min_size=1, max_size=20),
       st.integers(0, 19), st.sampled_from(["open", "high", "low", "close", "volume"]))
def test_two_candle_lists_share_an_id_only_when_every_value_is_the_same(rows, index, field):
    candles = [candle(ts=ts, open=o, high=h, low=lo, close=c, volume=v) for ts, o, h, lo, c, v in rows]
    same = [candle(ts=c.ts, open=c.open, high=c.high, low=c.low, close=c.close, volume=c.volume) for c in candles]
    assert backtest_run_id(Params(), same) == backtest_run_id(Params(), candles)
    target = candles[index % len(candles)]
    value = getattr(target, field)
    other = value + 1.0 if value + 1.0 != value else value * 2 + 1.0
    if other == value:  # inf: +1 and *2 leave it as it is
        other = 0.0
    altered = [candle(**{**{name: getattr(c, name) for name in ("ts", "open", "high", "low", "close", "volume")},
                         **({field: other} if c is target else {})}) for c in candles]
    assert backtest_run_id(Params(), altered) != backtest_run_id(Params(), candles)
