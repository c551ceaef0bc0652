"""The backtest run id: its fast text path must hash exactly what the repr path hashes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from cli.bootstrap import _candles_text, _candles_text_fast, backtest_run_id
from journal.events import CandleClosed
from machine.params import Params


def candle(**fields) -> CandleClosed:
    values = dict(ts=1, symbol="BTC/USDT", timeframe="1h", open=1.0, high=2.0, low=0.5, close=1.5, volume=3.0)
    values.update(fields)
    return CandleClosed(**values)


def test_run_id_is_pinned_for_known_candles():
    # Pinned: the id is inside every backtest journal, so changing it changes content digests.
    candles = [candle(), candle(ts=2, symbol="ETH/USDT", open=3360.1, volume=0.0)]
    assert backtest_run_id(Params(), candles) == backtest_run_id(Params(), list(candles))
    assert _candles_text(candles) == b"BTC/USDT|1|1.0|2.0|0.5|1.5|3.0;ETH/USDT|2|3360.1|2.0|0.5|1.5|0.0;"
    assert _candles_text_fast(candles) == _candles_text(candles)


@pytest.mark.parametrize("fields", [
    {"open": 1e16}, {"open": 1e-5}, {"low": 9e-05}, {"close": -1e-05}, {"volume": float("nan")},
    {"volume": float("inf")}, {"ts": 1.5}, {"ts": True}, {"symbol": "btc/usdt"}, {"symbol": 'A"B'},
    {"symbol": "É/USDT"}, {"symbol": "A,B|C"}, {"open": Decimal("1.5")}, {"open": "1.5"},
])
def test_fast_text_steps_aside_when_notation_could_differ(fields):
    candles = [candle(), candle(**{"ts": 2, **fields})]
    assert _candles_text_fast(candles) is None


@pytest.mark.parametrize("fields", [{"volume": 0.0}, {"volume": -0.0}, {"open": 100}, {"low": 0.0001},
                                    {"high": 9999999999999998.0}, {"symbol": "BTC/USDT:USDT"}])
def test_fast_text_equals_repr_text_at_the_edges(fields):
    candles = [candle(), candle(**{"ts": 2, **fields})]
    assert _candles_text_fast(candles) == _candles_text(candles)


def test_no_candles_hash_the_params_only():
    assert _candles_text_fast([]) == b"" == _candles_text([])


@given(st.lists(st.tuples(st.integers(0, 2**62), *[st.floats(allow_nan=True, allow_infinity=True)] * 5), max_size=20))
def test_run_id_text_is_the_repr_text_for_any_floats(rows):
    candles = [candle(ts=ts, open=o, high=h, low=lo, close=c, volume=v) for ts, o, h, lo, c, v in rows]
    fast = _candles_text_fast(candles)
    assert fast is None or fast == _candles_text(candles)


@given(st.lists(st.tuples(st.integers(0, 2**62), *[st.floats(1e-4, 1e16, exclude_max=True)] * 5), min_size=1,
                max_size=20))
def test_fast_text_serves_every_price_in_the_positional_range(rows):
    candles = [candle(ts=ts, open=o, high=h, low=lo, close=c, volume=v) for ts, o, h, lo, c, v in rows]
    assert _candles_text_fast(candles) == _candles_text(candles)
