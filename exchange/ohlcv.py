"""Offline candle input: `DIR/<timeframe>/<BASE>_<QUOTE>.(parquet|csv)`, validated.

Bad candles are bad input: a gap, a duplicate, a NaN, a timestamp going backwards or a
bar whose open/close lie outside [low, high] raise `BadInput` naming the file and the
1-based data row (the CSV header is not counted). Gaps are refused rather than
filled: a silently interpolated bar would be a fact the market never printed.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:  # pandas loads lazily: `bot --help`, `bot health` and friends never pay for it
    import pandas as pd

from journal.errors import BadInput
from journal.events import CandleClosed

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def timeframe_ms(timeframe: str) -> int:
    """`1h` -> 3_600_000. Unknown units or non-positive counts are bad input."""
    count, unit = timeframe[:-1], timeframe[-1:]
    if unit not in _UNIT_MS or not count.isdigit() or int(count) <= 0:
        raise BadInput(f"timeframe {timeframe!r}: expected N followed by m, h, d or w (e.g. 1h)")
    return int(count) * _UNIT_MS[unit]


def candle_file(data_dir: Path, timeframe: str, symbol: str) -> Path:
    """The parquet (preferred) or CSV file holding `symbol` candles."""
    if "/" not in symbol:
        raise BadInput(f"symbol {symbol!r}: expected BASE/QUOTE, e.g. BTC/USDT")
    stem = symbol.split(":")[0].replace("/", "_")
    folder = Path(data_dir) / timeframe
    for suffix in (".parquet", ".csv"):
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return path
        if path.exists():
            raise BadInput(f"{path}: not a candle file (a directory or a special file)")
    raise BadInput(f"{folder / (stem + '.parquet')}: no candle file (also tried .csv)")


def _read_frame(path: Path) -> pd.DataFrame:
    import pandas as pd
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # any parser failure is the file's fault, reported in one line
        raise BadInput(f"{path}: unreadable candle file ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise BadInput(f"{path}: missing column(s) {', '.join(missing)}")
    return frame[list(COLUMNS)]


def _timestamps_ms(column: pd.Series, path: Path) -> np.ndarray:
    """Int ms UTC from int ms or ISO dates; a row that parses as neither is named."""
    import pandas as pd
    if pd.api.types.is_integer_dtype(column):
        return column.to_numpy(dtype=np.int64)
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.notna().all():
        fractional = np.flatnonzero((numeric != numeric.round()).to_numpy())
        if fractional.size:
            row = int(fractional[0])
            raise BadInput(f"{path}: row {row + 1}: timestamp {column.iloc[row]} is not a whole number of ms")
        return numeric.to_numpy(dtype=np.int64)
    parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        raise BadInput(f"{path}: row {bad[0] + 1}: timestamp {column.iloc[bad[0]]!r} is neither int ms nor an ISO date")
    since_epoch = parsed - pd.Timestamp(0, tz="UTC")  # unit-agnostic: pandas may parse to s, ms or ns
    return (since_epoch // pd.Timedelta(milliseconds=1)).to_numpy(dtype=np.int64)


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def validate(ts: np.ndarray, values: dict[str, np.ndarray], path: Path, step_ms: int) -> None:
    """Raise BadInput for the first broken row (1-based data row)."""
    for name in COLUMNS[1:]:
        row = _first(~np.isfinite(values[name]))
        if row is not None:
            raise BadInput(f"{path}: row {row + 1}: {name} is NaN or infinite")
    deltas = np.diff(ts)
    checks = (
        (deltas == 0, "duplicate timestamp {t}"),
        (deltas < 0, "timestamp {t} goes backwards (not monotonic)"),
        (deltas % step_ms != 0, "timestamp {t} is off the " + f"{step_ms} ms grid"),
        (deltas > step_ms, "gap before timestamp {t}: expected one bar every " + f"{step_ms} ms"),
    )
    for mask, message in checks:
        row = _first(mask)
        if row is not None:
            raise BadInput(f"{path}: row {row + 2}: " + message.format(t=int(ts[row + 1])))
    high, low = values["high"], values["low"]
    for mask, message in (
        (high < low, "high < low"),
        ((values["open"] > high) | (values["open"] < low), "open outside [low, high]"),
        ((values["close"] > high) | (values["close"] < low), "close outside [low, high]"),
        (values["volume"] < 0, "negative volume"),
    ):
        row = _first(mask)
        if row is not None:
            raise BadInput(f"{path}: row {row + 1}: {message}")


def read_ohlcv(data_dir: Path, symbol: str, timeframe: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Validated (timestamps ms, {open, high, low, close, volume}) of one symbol."""
    import pandas as pd
    path = candle_file(data_dir, timeframe, symbol)
    frame = _read_frame(path)
    ts = _timestamps_ms(frame["timestamp"], path)
    values = {}
    for name in COLUMNS[1:]:
        raw = frame[name]
        if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "fiu":  # already numbers: no coercing copy
            values[name] = raw.to_numpy(dtype=np.float64)
            continue
        column = pd.to_numeric(raw, errors="coerce")
        text = np.flatnonzero((column.isna() & frame[name].notna()).to_numpy())
        if text.size:  # a value that is there but is not a number (NaN/inf are reported by validate)
            row = int(text[0])
            raise BadInput(f"{path}: row {row + 1}: {name} {frame[name].iloc[row]!r} is not a number")
        values[name] = column.to_numpy(dtype=np.float64)
    if len(ts) == 0:
        raise BadInput(f"{path}: no candles")
    validate(ts, values, path, timeframe_ms(timeframe))
    return ts, values


def select(ts: np.ndarray, start_ms: int | None, end_ms: int | None, bars: int | None) -> slice:
    """Rows with start <= ts < end, then the last `bars` of them."""
    lo = 0 if start_ms is None else int(np.searchsorted(ts, start_ms, side="left"))
    hi = len(ts) if end_ms is None else int(np.searchsorted(ts, end_ms, side="left"))
    if bars is not None:
        lo = max(lo, hi - bars)
    return slice(lo, max(lo, hi))


def load_candles(
    data_dir: Path,
    symbols: Sequence[str],
    timeframe: str,
    *,
    bars: int | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> list[CandleClosed]:
    """Closed candles of every symbol, interleaved deterministically by (ts, symbol), as one list.
    A long run iterates `exchange.candle_set.load_candle_set` instead (50 bytes a bar, not ≈ 250)."""
    from exchange.candle_set import load_candle_set

    return list(load_candle_set(data_dir, symbols, timeframe, bars=bars, start_ms=start_ms, end_ms=end_ms))


def parse_iso_ms(text: str, flag: str) -> int:
    """An ISO date/time (UTC when no zone is given) as int ms; bad text names the flag."""
    import pandas as pd
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise BadInput(f"{flag} {text!r}: not an ISO date (e.g. 2025-01-31 or 2025-01-31T12:00Z)") from None
    if stamp is pd.NaT:
        raise BadInput(f"{flag} {text!r}: not an ISO date")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int((stamp - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1))
