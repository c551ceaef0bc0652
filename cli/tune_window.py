"""Train/test split of the candle history, in whole days counted back from its end.

    end       = open time of the last bar every symbol has + one bar (exclusive)
    oos_start = end - oos_days        (out-of-sample window: [oos_start, end))
    train     = [oos_start - days, oos_start)

Both windows start cold, with no warm-up bars from before them: the strategy spends
its first `donchian_len` bars of each window building the channel, exactly as
`bot backtest --start <oos_start> --end <end>` does. That is what makes the OOS
figures of `bot tune` reproducible with `bot backtest` (same candles in, same
decisions out), and it keeps the train window's last bars out of the test.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from exchange.ohlcv import load_candles, read_ohlcv, timeframe_ms
from journal.errors import BadInput
from journal.events import CandleClosed

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Windows:
    train_start: int
    oos_start: int
    end: int

    def as_dict(self) -> dict[str, str]:
        return {"train_start": iso(self.train_start), "train_end": iso(self.oos_start),
                "oos_start": iso(self.oos_start), "oos_end": iso(self.end)}


def iso(ms: int) -> str:
    """Int ms UTC as the ISO text `bot backtest --start/--end` accepts."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_windows(data_dir: Path, symbols: Sequence[str], timeframe: str, days: int, oos_days: int) -> Windows:
    """The windows, after checking every symbol's file covers both (BadInput naming the short file)."""
    if days < 1:
        raise BadInput(f"--days {days}: must be at least 1")
    if oos_days < 1:
        raise BadInput(f"--oos-days {oos_days}: must be at least 1")
    bar_ms = timeframe_ms(timeframe)
    spans = {symbol: read_ohlcv(data_dir, symbol, timeframe)[0] for symbol in symbols}
    end = min(int(ts[-1]) for ts in spans.values()) + bar_ms
    windows = Windows(train_start=end - (days + oos_days) * DAY_MS, oos_start=end - oos_days * DAY_MS, end=end)
    for symbol, ts in spans.items():
        if int(ts[0]) > windows.train_start:
            have = (end - int(ts[0])) / DAY_MS
            raise BadInput(
                f"{data_dir}: {symbol} has {len(ts)} {timeframe} bars ({have:.1f} days up to {iso(end)}); "
                f"--days {days} + --oos-days {oos_days} need data from {iso(windows.train_start)}")
    return windows


def window_candles(data_dir: Path, symbols: Sequence[str], timeframe: str, start: int,
                   end: int) -> list[CandleClosed]:
    """Exactly the candles `bot backtest --start <start> --end <end>` feeds (same loader, same bounds)."""
    return load_candles(data_dir, symbols, timeframe, start_ms=start, end_ms=end)
