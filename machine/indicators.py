"""Donchian channel and Wilder's ATR as one per-bar recurrence.

`ind_update` is the only place either indicator is computed: the incremental path
(live, one bar at a time) calls it directly and the array path (`indicator_series`,
backtests, the seed facades) folds it over arrays, so both give bit-identical floats.

ATR seeding (TA-Lib's convention): the true range needs a previous close, so the
first bar has none; ATR(n) first exists on bar index n as the simple mean of the
true ranges of bars 1..n, then Wilder's smoothing atr = (atr*(n-1) + tr) / n.

The channel decide() compares bar t's close against is the high/low of the
`donchian_len` bars *before* t; it is defined once that many bars were seen.
"""
from __future__ import annotations

from typing import Sequence

import msgspec

NAN = float("nan")


class Ind(msgspec.Struct, frozen=True, array_like=True):
    """Indicator state of one symbol after its latest closed bar.

    ch_high/ch_low: channel of the bars before the latest one (NaN while warming up);
    highs/lows: the last `donchian_len` bars including the latest (next bar's channel);
    atr: ATR including the latest bar (NaN until seeded); tr_sum: seeding accumulator."""

    ts: int = -1
    close: float = NAN
    ch_high: float = NAN
    ch_low: float = NAN
    highs: tuple[float, ...] = ()
    lows: tuple[float, ...] = ()
    win_high: float = NAN
    win_low: float = NAN
    atr: float = NAN
    tr_sum: float = 0.0
    bars: int = 0


EMPTY_IND = Ind()


def ind_update(ind: Ind, ts: int, high: float, low: float, close: float, dlen: int, alen: int) -> Ind:
    """Fold one closed bar into the indicator state (the single recurrence)."""
    bars = ind.bars
    highs = ind.highs
    lows = ind.lows
    if bars >= dlen:  # the window is full: slide it
        ch_high = win_high = ind.win_high
        ch_low = win_low = ind.win_low
        out_h = highs[0]
        out_l = lows[0]
        highs = highs[1:] + (high,)
        lows = lows[1:] + (low,)
        if out_h < win_high:
            if high > win_high:
                win_high = high
        else:
            win_high = max(highs)
        if out_l > win_low:
            if low < win_low:
                win_low = low
        else:
            win_low = min(lows)
    else:
        ch_high = ch_low = NAN
        highs = highs + (high,)
        lows = lows + (low,)
        win_high = max(highs)
        win_low = min(lows)
    atr = ind.atr
    tr_sum = ind.tr_sum
    if bars:
        prev = ind.close
        tr = high - low  # true range, inlined (hot path): max(h-l, |h-prev|, |l-prev|)
        up = high - prev if high > prev else prev - high
        down = low - prev if low > prev else prev - low
        if up > tr:
            tr = up
        if down > tr:
            tr = down
        if bars < alen:
            tr_sum = tr_sum + tr
        elif bars == alen:
            atr = (tr_sum + tr) / alen
        else:
            atr = (atr * (alen - 1) + tr) / alen
    return Ind(ts, close, ch_high, ch_low, highs, lows, win_high, win_low, atr, tr_sum, bars + 1)


def indicator_series(
    ts: Sequence[int],
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    dlen: int,
    alen: int,
) -> tuple[list[float], list[float], list[float]]:
    """Array path: (channel_high, channel_low, atr) per bar, NaN while warming up."""
    ind = EMPTY_IND
    ch_h: list[float] = []
    ch_l: list[float] = []
    atrs: list[float] = []
    for i in range(len(close)):
        ind = ind_update(ind, int(ts[i]), float(high[i]), float(low[i]), float(close[i]), dlen, alen)
        ch_h.append(ind.ch_high)
        ch_l.append(ind.ch_low)
        atrs.append(ind.atr)
    return ch_h, ch_l, atrs


def last_indicators(ts, high, low, close, dlen: int, alen: int) -> Ind:
    """Fold a whole history and return the state after its last bar."""
    ind = EMPTY_IND
    for i in range(len(close)):
        ind = ind_update(ind, int(ts[i]), float(high[i]), float(low[i]), float(close[i]), dlen, alen)
    return ind
