"""`bot download`: closed candles through ccxt, paginated, resumable, validated, parquet.

Output per DESIGN: `OUT/<timeframe>/<BASE>_<QUOTE>.parquet` (timestamp int ms UTC = bar
open, open, high, low, close, volume). An existing file is resumed from its last bar.
"Now" is the venue's forming bar (its newest kline), so the same code works against
Binance and against `bot exchange-sim`'s replayed market clock. Pages are written
(atomically) as they arrive, so an interrupted download resumes where it stopped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import ccxt
import numpy as np
import pandas as pd

from exchange.binance_calls import GuardedClient
from exchange.binance_errors import VenueError
from exchange.binance_symbols import to_unified
from journal.errors import BadInput, CheckFailed

COLUMNS = ["timestamp", "open", "high", "low", "close", "volume"]
PAGE = 1000
FLUSH_EVERY_PAGES = 10


@dataclass
class SymbolResult:
    symbol: str
    path: Path
    added: int
    total: int
    first_ts: int | None
    last_ts: int | None


def timeframe_ms(timeframe: str) -> int:
    try:
        return int(ccxt.Exchange.parse_timeframe(timeframe)) * 1000
    except Exception:  # noqa: BLE001 - ccxt raises assorted errors for a bad unit
        raise BadInput(f"--timeframe {timeframe!r}: expected e.g. 1m, 1h, 1d") from None


def target_path(out: Path, timeframe: str, symbol: str) -> Path:
    return Path(out) / timeframe / f"{symbol.split(':')[0].replace('/', '_')}.parquet"


def validate(frame: pd.DataFrame, step_ms: int, where: str) -> None:
    """Strictly increasing, gap-free, finite, low <= open/close <= high (names the first bad bar)."""
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    steps = np.diff(ts)
    for problem, mask in (("duplicate or backwards timestamp", steps <= 0), ("gap", steps > step_ms)):
        bad = np.flatnonzero(mask)
        if bad.size:
            raise CheckFailed(f"{where}: {problem} after bar {int(ts[bad[0]])} (row {int(bad[0]) + 1})")
    values = frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype=float)
    lo, hi = values[:, 2], values[:, 1]
    bad_rows = ~np.isfinite(values).all(axis=1) | (hi < lo) | (values[:, 0] > hi) | (values[:, 0] < lo) \
        | (values[:, 3] > hi) | (values[:, 3] < lo)
    bad = np.flatnonzero(bad_rows)
    if bad.size:
        raise CheckFailed(f"{where}: bar {int(ts[bad[0]])} (row {int(bad[0]) + 1}) is not a valid candle")


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _existing(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is the user's to remove
        raise BadInput(f"{path}: existing file is not readable parquet ({type(exc).__name__})") from None
    if list(frame.columns)[:6] != COLUMNS or frame.empty:
        raise BadInput(f"{path}: existing file does not have columns {','.join(COLUMNS)}")
    return frame[COLUMNS]


def download_symbol(venue: GuardedClient, symbol: str, timeframe: str, days: int, out: Path,
                    on_progress: Callable[[int, int], None] = lambda done, total: None) -> SymbolResult:
    step = timeframe_ms(timeframe)
    unified = to_unified(symbol)
    path = target_path(out, timeframe, symbol)
    calls: list = []
    try:
        newest = venue.call(calls, 0, venue.client.fetch_ohlcv, unified, timeframe, None, 1)
    except VenueError as error:
        raise CheckFailed(f"{symbol}: cannot reach the venue ({error.reason}: {error.message})") from None
    if not newest:
        raise CheckFailed(f"{symbol}: the venue returned no candles")
    forming = int(newest[-1][0])  # bars before this one are closed
    existing = _existing(path)
    start = forming - days * 86_400_000
    start -= start % step
    if existing is not None:
        start = int(existing["timestamp"].iloc[-1]) + step
    frame = existing if existing is not None else pd.DataFrame(columns=COLUMNS)
    added, pages, since = 0, 0, start
    total = max(0, (forming - start) // step)
    while since < forming:
        try:
            rows = venue.call(calls, 0, venue.client.fetch_ohlcv, unified, timeframe, since, PAGE)
        except VenueError as error:
            if added:
                _write(frame, path)
            raise CheckFailed(f"{symbol}: download stopped at {since} ({error.reason}); rerun to resume") from None
        rows = [r for r in rows if since <= int(r[0]) < forming]
        if not rows:
            break
        page = pd.DataFrame(rows, columns=COLUMNS).astype({"timestamp": "int64"})
        validate(pd.concat([frame.tail(1), page]) if len(frame) else page, step, f"{symbol} from {since}")
        frame = pd.concat([frame, page], ignore_index=True) if len(frame) else page
        added += len(page)
        since = int(page["timestamp"].iloc[-1]) + step
        pages += 1
        on_progress(added, total)
        if pages % FLUSH_EVERY_PAGES == 0:
            _write(frame, path)
    if len(frame):
        frame = frame.astype({"timestamp": "int64", "open": float, "high": float, "low": float, "close": float,
                              "volume": float})
        validate(frame, step, str(path))
        _write(frame, path)
    return SymbolResult(symbol, path, added, len(frame),
                        int(frame["timestamp"].iloc[0]) if len(frame) else None,
                        int(frame["timestamp"].iloc[-1]) if len(frame) else None)
