"""The candles of a run held as numpy columns, handed out as `CandleClosed` a chunk at a time.

A list of `CandleClosed` costs ≈ 250 bytes a bar in Python objects, and building, sorting and hashing
it took a 1M-bar backtest to ≈ 800 MB: years of 1m bars over a few symbols would not fit in memory.
Here a bar costs 50 bytes (int64 time, 5 float64 values, an int16 symbol index), already in the run's
(ts, symbol) order; `iter` builds the events `CHUNK` bars at a time, so at most one chunk of Python
objects is alive. The events are the ones `load_candles` lists: same values, same order.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Iterator, overload

import numpy as np

from journal.errors import BadInput
from journal.events import CandleClosed

CHUNK = 65_536
"""Bars turned into Python objects at a time (≈ 16 MB of events)."""
VALUES = ("open", "high", "low", "close", "volume")


class CandleSet(Sequence):
    """`Sequence[CandleClosed]` over columns: len, index, iterate (chunked), and the rows the run id hashes."""

    def __init__(self, timeframe: str, symbols: Sequence[str], ts: np.ndarray, symbol_index: np.ndarray,
                 values: np.ndarray) -> None:
        self.timeframe = timeframe
        self.symbols = tuple(symbols)  # symbol_index points in here
        self.ts = ts
        self.symbol_index = symbol_index
        self.values = values  # shape (5, n): open, high, low, close, volume

    def __len__(self) -> int:
        return len(self.ts)

    @overload
    def __getitem__(self, index: int) -> CandleClosed: ...

    @overload
    def __getitem__(self, index: slice) -> list[CandleClosed]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._events(start, stop)
        n = len(self)
        position = index + n if index < 0 else index
        if not 0 <= position < n:
            raise IndexError(f"candle {index} of {n}")
        return self._events(position, position + 1)[0]

    def __iter__(self) -> Iterator[CandleClosed]:
        for start in range(0, len(self), CHUNK):
            yield from self._events(start, min(start + CHUNK, len(self)))

    def rows(self) -> Iterator[list[tuple]]:
        """`(symbol, ts, open, high, low, close, volume)` rows, a chunk per list, without building events."""
        for start in range(0, len(self), CHUNK):
            stop = min(start + CHUNK, len(self))
            yield list(zip(self._symbols(start, stop), self.ts[start:stop].tolist(),
                           *self.values[:, start:stop].tolist()))

    def _symbols(self, start: int, stop: int) -> list[str]:
        names = self.symbols
        return [names[i] for i in self.symbol_index[start:stop].tolist()]

    def _events(self, start: int, stop: int) -> list[CandleClosed]:
        timeframe = self.timeframe
        return [CandleClosed(ts=t, symbol=s, timeframe=timeframe, open=o, high=h, low=lo, close=c, volume=v)
                for s, t, o, h, lo, c, v in zip(self._symbols(start, stop), self.ts[start:stop].tolist(),
                                                 *self.values[:, start:stop].tolist())]


def load_candle_set(data_dir: Path, symbols: Sequence[str], timeframe: str, *, bars: int | None = None,
                    start_ms: int | None = None, end_ms: int | None = None) -> CandleSet:
    """The candles of every symbol, in (ts, symbol) order, as columns. Bad files raise BadInput (`read_ohlcv`)."""
    from exchange.ohlcv import read_ohlcv, select

    if bars is not None and bars <= 0:
        raise BadInput(f"--bars {bars}: must be a positive number of bars")
    names = sorted(set(symbols))  # index order is name order: sorting by (ts, index) is by (ts, symbol)
    if len(names) > np.iinfo(np.int16).max:
        raise BadInput(f"{len(names)} symbols: at most {np.iinfo(np.int16).max} in one run")
    times, indexes, columns = [], [], []
    for index, symbol in enumerate(names):
        ts, values = read_ohlcv(data_dir, symbol, timeframe)
        rows = select(ts, start_ms, end_ms, bars)
        times.append(ts[rows].astype(np.int64, copy=False))
        indexes.append(np.full(len(times[-1]), index, dtype=np.int16))
        columns.append(np.stack([values[name][rows] for name in VALUES]).astype(np.float64, copy=False))
    if not times:
        return CandleSet(timeframe, names, np.empty(0, np.int64), np.empty(0, np.int16), np.empty((5, 0)))
    ts_all, index_all = np.concatenate(times), np.concatenate(indexes)
    values_all = np.concatenate(columns, axis=1)
    del times, indexes, columns
    if len(names) == 1:  # one file, validated increasing: already in order (and no reordered copy to hold)
        return CandleSet(timeframe, names, ts_all, index_all, values_all)
    order = np.lexsort((index_all, ts_all))  # by ts, then symbol; (ts, symbol) pairs are unique per file
    return CandleSet(timeframe, names, ts_all[order], index_all[order], values_all[:, order])
