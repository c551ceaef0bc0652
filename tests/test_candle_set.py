"""A backtest's candles as columns (exchange/candle_set.py): the same events as the list, a chunk at a time."""
from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pytest

from cli import bootstrap
from cli.bootstrap import backtest_run_id
from exchange import candle_set
from exchange.candle_set import load_candle_set
from exchange.ohlcv import load_candles, read_ohlcv, select
from journal.events import CandleClosed
from machine.params import Params

DATA = Path(__file__).resolve().parent / "data" / "ohlcv"
SYMBOLS = ["ETH/USDT", "BTC/USDT"]


def _events_one_by_one(symbols, bars=None, start_ms=None) -> list[CandleClosed]:
    """The reference: every file's rows as events, sorted by (ts, symbol)."""
    events = []
    for symbol in symbols:
        ts, values = read_ohlcv(DATA, symbol, "1h")
        rows = select(ts, start_ms, None, bars)
        for i in range(rows.start, rows.stop):
            events.append(CandleClosed(ts=int(ts[i]), symbol=symbol, timeframe="1h", open=float(values["open"][i]),
                                       high=float(values["high"][i]), low=float(values["low"][i]),
                                       close=float(values["close"][i]), volume=float(values["volume"][i])))
    return sorted(events, key=lambda c: (c.ts, c.symbol))


@pytest.mark.parametrize("symbols", [SYMBOLS, ["ETH/USDT"]])
@pytest.mark.parametrize("window", [{}, {"bars": 37}, {"start_ms": 1_740_000_000_000}])
def test_the_set_holds_the_events_the_list_holds(window, symbols, monkeypatch):
    monkeypatch.setattr(candle_set, "CHUNK", 64)  # many chunk boundaries inside the fixtures
    listed = _events_one_by_one(symbols, **window)
    assert load_candles(DATA, symbols, "1h", **window) == listed
    columns = load_candle_set(DATA, symbols, "1h", **window)
    assert len(columns) == len(listed) > 0
    assert list(columns) == listed
    assert [type(c.ts) for c in columns][:3] == [int] * 3  # plain ints, like the list
    assert columns[0] == listed[0] and columns[-1] == listed[-1] and columns[100:130] == listed[100:130]
    assert columns[::50] == listed[::50]
    with pytest.raises(IndexError):
        columns[len(listed)]


def _whole_array_id(params: Params, candles) -> str:
    """The run id's definition, written the direct way: one msgpack array of every row."""
    rows = [(c.symbol, c.ts, c.open, c.high, c.low, c.close, c.volume) for c in candles]
    digest = hashlib.sha256(msgspec.json.encode(params))
    digest.update(msgspec.msgpack.encode(rows))
    return digest.hexdigest()[:12]


def _candles(n: int) -> list[CandleClosed]:
    return [CandleClosed(ts=i * 60_000, symbol="BTC/USDT", timeframe="1m", open=1.0 + i, high=2.0 + i,
                         low=0.5, close=1.5 + i, volume=float(i % 7)) for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 40, 65_535, 65_536, 65_537])
def test_the_run_id_hashes_the_whole_array_whatever_the_chunks(n, monkeypatch):
    candles = _candles(n)
    expected = _whole_array_id(Params(), candles)
    assert backtest_run_id(Params(), candles) == expected  # the real chunk size (65,536 rows)
    monkeypatch.setattr(bootstrap, "_ROW_CHUNK", 7)  # and chunks that end anywhere
    assert backtest_run_id(Params(), candles) == expected


def test_a_set_and_its_list_have_one_run_id(monkeypatch):
    monkeypatch.setattr(candle_set, "CHUNK", 50)
    columns = load_candle_set(DATA, SYMBOLS, "1h")
    assert backtest_run_id(Params(), columns) == backtest_run_id(Params(), list(columns))


def test_iterating_holds_one_chunk_of_events_not_one_per_bar(tmp_path):
    """300,000 bars as a list of events take ≈ 75 MB; iterated from columns, at most a chunk is alive."""
    n = 300_000
    (tmp_path / "1m").mkdir()
    close = 20_000.0 + np.arange(n) % 500
    pd.DataFrame({"timestamp": np.arange(n, dtype=np.int64) * 60_000, "open": close, "high": close + 5.0,
                  "low": close - 5.0, "close": close, "volume": np.ones(n)}
                 ).to_parquet(tmp_path / "1m" / "BTC_USDT.parquet")
    columns = load_candle_set(tmp_path, ["BTC/USDT"], "1m")
    tracemalloc.start()
    try:
        seen, last = 0, None
        for candle in columns:
            seen, last = seen + 1, candle
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == n and last.ts == (n - 1) * 60_000
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MB while iterating"
