"""Candles the sim serves, read from `DIR/<timeframe>/<BASE>_<QUOTE>.(parquet|csv)`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from journal.errors import BadInput

TIMEFRAME_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000}


@dataclass(frozen=True)
class Series:
    """One symbol's bars as numpy columns (timestamp = bar open, int ms UTC)."""

    base: str
    quote: str
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @property
    def venue_id(self) -> str:
        return f"{self.base}{self.quote}"

    def index_at(self, ts: int) -> int:
        """Index of the bar containing `ts` (-1 before the first bar)."""
        return int(np.searchsorted(self.ts, ts, side="right")) - 1


def _read_frame(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise BadInput(f"{path}: unreadable candles ({type(exc).__name__})") from None
    missing = {"timestamp", "open", "high", "low", "close", "volume"} - set(frame.columns)
    if missing:
        raise BadInput(f"{path}: missing columns {sorted(missing)}")
    if not pd.api.types.is_integer_dtype(frame["timestamp"]):
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("int64") // 1_000_000
    return frame


def _check(path: Path, frame: pd.DataFrame) -> None:
    ts = frame["timestamp"].to_numpy()
    bad = np.flatnonzero(np.diff(ts) <= 0)
    if bad.size:
        raise BadInput(f"{path}: row {int(bad[0]) + 2}: timestamps not strictly increasing")
    values = frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype=float)
    nan_rows = np.flatnonzero(np.isnan(values).any(axis=1))
    if nan_rows.size:
        raise BadInput(f"{path}: row {int(nan_rows[0]) + 1}: NaN in candle")
    bad_range = np.flatnonzero(frame["high"].to_numpy() < frame["low"].to_numpy())
    if bad_range.size:
        raise BadInput(f"{path}: row {int(bad_range[0]) + 1}: high < low")


def load_candles(data_dir: str | Path, timeframe: str = "1h") -> dict[str, Series]:
    """Every `<BASE>_<QUOTE>` file of the timeframe, keyed by venue id (`BTCUSDT`)."""
    folder = Path(data_dir) / timeframe
    if not folder.is_dir():
        raise BadInput(f"{folder}: no candle folder for timeframe {timeframe}")
    series: dict[str, Series] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".csv", ".parquet") or "_" not in path.stem:
            continue
        base, quote = path.stem.split("_", 1)
        if f"{base}{quote}" in series:
            continue  # parquet and csv of the same pair: the first (sorted: csv) wins
        frame = _read_frame(path)
        _check(path, frame)
        series[f"{base}{quote}"] = Series(
            base=base,
            quote=quote,
            ts=frame["timestamp"].to_numpy(dtype=np.int64),
            open=frame["open"].to_numpy(dtype=float),
            high=frame["high"].to_numpy(dtype=float),
            low=frame["low"].to_numpy(dtype=float),
            close=frame["close"].to_numpy(dtype=float),
            volume=frame["volume"].to_numpy(dtype=float),
        )
    if not series:
        raise BadInput(f"{folder}: no <BASE>_<QUOTE>.csv or .parquet files")
    return series
