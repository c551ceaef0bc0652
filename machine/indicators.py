"""Donchian channel and Wilder's ATR as one per-bar recurrence.

`advance` is the only place either indicator is computed: the incremental path
(live, one bar at a time) calls it directly and the array path (`indicator_series`,
backtests, the seed facades) folds it over arrays, so both give bit-identical floats.

ATR seeding (TA-Lib's convention): the true range needs a previous close, so the
first bar has none; ATR(n) first exists on bar index n as the simple mean of the
true ranges of bars 1..n, then Wilder's smoothing atr = (atr*(n-1) + tr) / n.

The channel decide() compares bar t's close against is the high/low of the
`donchian_len` bars *before* t; it is defined once that many bars were seen.
"""
from __future__ import annotations

from typing import Any, Final, Sequence

NAN: Final = float("nan")


class Ind:
    """Indicator state of one symbol after its latest closed bar, advanced in place.

    It is the one per-bar record of the fold that changes on every bar, so it is mutable:
    a fresh copy per bar would cost more than the rest of a quiet bar. Each fold owns its
    records (`new_ind()` per symbol; never shared between states that both go on).

    ch_high/ch_low: channel of the bars before the latest one (NaN while warming up);
    highs/lows: ring of the last `donchian_len` bars including the latest, `slot` the oldest;
    win_high/win_low: the ring's extremes (the next bar's channel);
    atr: ATR including the latest bar (NaN until seeded); tr_sum: seeding accumulator."""

    ts: int
    close: float
    ch_high: float
    ch_low: float
    highs: list[float]
    lows: list[float]
    slot: int
    win_high: float
    win_low: float
    atr: float
    tr_sum: float
    bars: int

    def __init__(self) -> None:
        self.ts = -1
        self.close = NAN
        self.ch_high = NAN
        self.ch_low = NAN
        self.highs = []
        self.lows = []
        self.slot = 0
        self.win_high = NAN
        self.win_low = NAN
        self.atr = NAN
        self.tr_sum = 0.0
        self.bars = 0

    def values(self) -> tuple:
        return (self.ts, self.close, self.ch_high, self.ch_low, self.highs, self.lows, self.slot, self.win_high,
                self.win_low, self.atr, self.tr_sum, self.bars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ind) and repr(self.values()) == repr(other.values())  # NaN equals NaN here

    def __reduce__(self) -> tuple:
        """Pickle and deepcopy (compiled, a native class has no __dict__ for them to copy)."""
        return _restore_ind, (self.values(),)

    def copy(self) -> "Ind":
        """An independent copy (the rings too): the fold advances its records in place."""
        other = Ind()
        other.ts, other.close, other.ch_high, other.ch_low = self.ts, self.close, self.ch_high, self.ch_low
        other.highs, other.lows, other.slot = list(self.highs), list(self.lows), self.slot
        other.win_high, other.win_low, other.atr = self.win_high, self.win_low, self.atr
        other.tr_sum, other.bars = self.tr_sum, self.bars
        return other


def _restore_ind(values: tuple) -> Ind:
    ind = Ind()
    (ind.ts, ind.close, ind.ch_high, ind.ch_low, highs, lows, ind.slot, ind.win_high, ind.win_low, ind.atr,
     ind.tr_sum, ind.bars) = values
    ind.highs, ind.lows = list(highs), list(lows)
    return ind


def new_ind() -> Ind:
    """A fresh record for a symbol's first bar (never a shared default: records are advanced in place)."""
    return Ind()


def advance(ind: Ind, ts: int, high: float, low: float, close: float, dlen: int, alen: int) -> None:
    """Fold one closed bar into `ind` (the single recurrence, for history and live alike).

    The channel only rescans its window when the bar leaving it held the extreme; max/min over
    the same values give the same float whatever their order in the ring."""
    bars = ind.bars
    if bars >= dlen:  # the window is full: the new bar replaces the oldest
        highs, lows, slot = ind.highs, ind.lows, ind.slot
        ind.ch_high = win_high = ind.win_high
        ind.ch_low = win_low = ind.win_low
        out_h = highs[slot]
        out_l = lows[slot]
        highs[slot] = high
        lows[slot] = low
        ind.slot = slot + 1 if slot + 1 < dlen else 0
        if out_h < win_high:
            if high > win_high:
                ind.win_high = high
        else:
            ind.win_high = max(highs)
        if out_l > win_low:
            if low < win_low:
                ind.win_low = low
        else:
            ind.win_low = min(lows)
    else:
        ind.highs.append(high)
        ind.lows.append(low)
        ind.win_high = max(ind.highs)
        ind.win_low = min(ind.lows)
    if bars:
        prev = ind.close
        # True range max(h-l, |h-prev|, |l-prev|) as max(h, prev) - min(l, prev): the same float, since
        # either form ends in one subtraction of the same two values (rounding is monotonic).
        tr = (high if high > prev else prev) - (low if low < prev else prev)
        if bars < alen:
            ind.tr_sum += tr
        elif bars == alen:
            ind.atr = (ind.tr_sum + tr) / alen
        else:
            ind.atr = (ind.atr * (alen - 1) + tr) / alen
    ind.ts = ts
    ind.close = close
    ind.bars = bars + 1


def indicator_series(
    ts: Sequence[Any],
    high: Sequence[Any],
    low: Sequence[Any],
    close: Sequence[Any],
    dlen: Any,
    alen: Any,
) -> tuple[list[float], list[float], list[float]]:
    """Array path: (channel_high, channel_low, atr) per bar, NaN while warming up. The sequences may
    hold numpy scalars (int64, float32): each value is converted (compiled, an `int`-typed element
    would be trusted, not converted)."""
    ind = new_ind()
    ch_h: list[float] = []
    ch_l: list[float] = []
    atrs: list[float] = []
    dlen, alen = int(dlen), int(alen)
    for i in range(len(close)):
        advance(ind, int(ts[i]), float(high[i]), float(low[i]), float(close[i]), dlen, alen)
        ch_h.append(ind.ch_high)
        ch_l.append(ind.ch_low)
        atrs.append(ind.atr)
    return ch_h, ch_l, atrs


def last_indicators(ts: Any, high: Any, low: Any, close: Any, dlen: Any, alen: Any) -> Ind:
    """Fold a whole history and return the state after its last bar (numpy scalars welcome, as above)."""
    ind = new_ind()
    dlen, alen = int(dlen), int(alen)
    for i in range(len(close)):
        advance(ind, int(ts[i]), float(high[i]), float(low[i]), float(close[i]), dlen, alen)
    return ind


def atr(df: Any, length: Any = 14) -> float:
    """The seed's `indicators.atr(df, n)`: Wilder's ATR at the frame's last bar (NaN while warming up),
    by the bot's own recurrence. `df` has high/low/close columns (a pandas DataFrame or a dict of lists)."""
    high, low, close = [list(map(float, df[name])) for name in ("high", "low", "close")]
    return last_indicators(range(len(close)), high, low, close, 1, int(length)).atr
