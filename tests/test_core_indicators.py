"""Indicators: Wilder's ATR against an independent reference, Donchian against pandas,
and the array path bit-identical to the incremental path the decider folds."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest_core import session
from journal import events as ev
from machine.decider import initial_state, step
from machine.indicators import indicator_series
from machine.params import Params

DATA = Path(__file__).parent / "data" / "ohlcv" / "1h"


def reference_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib's ATR written plainly with numpy: TR from bar 1, SMA seed at bar n, then Wilder."""
    prev = np.roll(close, 1)
    tr = np.maximum.reduce([high - low, np.abs(high - prev), np.abs(low - prev)])
    out = np.full(len(close), np.nan)
    out[n] = tr[1:n + 1].mean()
    for i in range(n + 1, len(close)):
        out[i] = (out[i - 1] * (n - 1) + tr[i]) / n
    return out


@pytest.fixture(scope="module")
def btc() -> pd.DataFrame:
    return pd.read_csv(DATA / "BTC_USDT.csv")


@pytest.mark.parametrize("n", [1, 2, 14, 50])
def test_wilder_atr_matches_independent_reference(btc, n):
    _, _, atr = indicator_series(btc.timestamp, btc.high, btc.low, btc.close, 20, n)
    ref = reference_atr(btc.high.to_numpy(), btc.low.to_numpy(), btc.close.to_numpy(), n)
    atr = np.array(atr)
    assert np.isnan(atr[:n]).all() and not np.isnan(atr[n:]).any()
    np.testing.assert_allclose(atr[n:], ref[n:], rtol=1e-9, atol=0)


def test_atr_seed_is_the_mean_of_the_first_n_true_ranges():
    high, low, close = [10.0, 12.0, 11.0, 15.0], [9.0, 10.0, 9.5, 11.0], [9.5, 11.0, 10.0, 14.0]
    _, _, atr = indicator_series(range(4), high, low, close, 2, 2)
    tr1 = max(12 - 10, abs(12 - 9.5), abs(10 - 9.5))  # 2.5
    tr2 = max(11 - 9.5, abs(11 - 11), abs(9.5 - 11))  # 1.5
    tr3 = max(15 - 11, abs(15 - 10), abs(11 - 10))  # 5
    assert math.isnan(atr[0]) and math.isnan(atr[1])
    assert atr[2] == (tr1 + tr2) / 2 and atr[3] == ((tr1 + tr2) / 2 * 1 + tr3) / 2


@pytest.mark.parametrize("n", [3, 20, 55])
def test_donchian_channel_is_extreme_of_previous_n_bars(btc, n):
    ch_h, ch_l, _ = indicator_series(btc.timestamp, btc.high, btc.low, btc.close, n, 14)
    expected_h = btc.high.rolling(n).max().shift(1).to_numpy()
    expected_l = btc.low.rolling(n).min().shift(1).to_numpy()
    np.testing.assert_array_equal(np.array(ch_h), expected_h)
    np.testing.assert_array_equal(np.array(ch_l), expected_l)


def test_array_path_and_incremental_decider_path_are_bit_identical(btc):
    params = Params()
    ch_h, ch_l, atr = indicator_series(btc.timestamp, btc.high, btc.low, btc.close, params.donchian_len,
                                       params.atr_len)
    state, _ = step(initial_state(params), session(), params)
    seen = []
    for row in btc.itertuples(index=False):
        candle = ev.CandleClosed(ts=int(row.timestamp), symbol="BTC/USDT", timeframe="1h", open=row.open,
                                 high=row.high, low=row.low, close=row.close, volume=row.volume)
        state, _ = step(state, candle, params)
        ind = state.ind["BTC/USDT"]
        seen.append((ind.ch_high, ind.ch_low, ind.atr))
    as_bits = lambda xs: np.array(xs, dtype=np.float64).view(np.uint64)  # noqa: E731
    for k, series in enumerate((ch_h, ch_l, atr)):
        assert (as_bits([s[k] for s in seen]) == as_bits(series)).all()
