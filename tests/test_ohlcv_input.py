"""Candle input: every defect is bad input naming the file and the 1-based data row."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from exchange.ohlcv import load_candles, parse_iso_ms, read_ohlcv, timeframe_ms
from journal.errors import BadInput

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
H = 3_600_000
GOOD = [
    # timestamp, open, high, low, close, volume
    (0 * H, 100.0, 101.0, 99.0, 100.5, 10.0),
    (1 * H, 100.5, 102.0, 100.0, 101.5, 11.0),
    (2 * H, 101.5, 103.0, 101.0, 102.5, 12.0),
    (3 * H, 102.5, 104.0, 102.0, 103.5, 13.0),
]


def write(tmp_path: Path, rows: list[tuple], symbol: str = "BTC_USDT", fmt: str = "csv") -> Path:
    folder = tmp_path / "1h"
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=["timestamp", "open", "high", "low", "close", "volume"])
    path = folder / f"{symbol}.{fmt}"
    frame.to_parquet(path) if fmt == "parquet" else frame.to_csv(path, index=False)
    return path


def broken(row: int, **changes) -> list[tuple]:
    rows = [list(r) for r in GOOD]
    names = ["timestamp", "open", "high", "low", "close", "volume"]
    for key, value in changes.items():
        rows[row - 1][names.index(key)] = value
    return [tuple(r) for r in rows]


@pytest.mark.parametrize(
    "rows, row, words",
    [
        (broken(3, timestamp=1 * H), 3, "duplicate"),
        (broken(3, timestamp=0), 3, "backwards"),
        (broken(4, timestamp=5 * H), 4, "gap"),
        (broken(2, close=float("nan")), 2, "close is NaN"),
        (broken(2, high=98.0, low=99.0, open=98.5, close=98.5), 2, "high < low"),
        (broken(4, open=110.0), 4, "open outside"),
        (broken(1, close=90.0), 1, "close outside"),
        (broken(3, timestamp=2 * H + 1), 3, "off the"),
        (broken(3, timestamp=2 * H + 0.5), 3, "timestamp 7200000.5 is not a whole number of ms"),
        (broken(2, open="abc"), 2, "open 'abc' is not a number"),
    ],
)
def test_defective_candles_name_file_and_row(tmp_path, rows, row, words):
    path = write(tmp_path, rows)
    with pytest.raises(BadInput) as caught:
        read_ohlcv(tmp_path, "BTC/USDT", "1h")
    message = str(caught.value)
    assert str(path) in message and f"row {row}:" in message and words in message
    assert "\n" not in message


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(BadInput, match=r"1h/SOL_USDT\.parquet: no candle file"):
        read_ohlcv(tmp_path, "SOL/USDT", "1h")


def test_a_directory_named_like_the_candle_file_is_named_as_such(tmp_path):
    (tmp_path / "1h" / "BTC_USDT.csv").mkdir(parents=True)
    with pytest.raises(BadInput, match=r"1h/BTC_USDT\.csv: not a candle file"):
        read_ohlcv(tmp_path, "BTC/USDT", "1h")


def test_missing_column_and_unparseable_timestamp_are_bad_input(tmp_path):
    path = tmp_path / "1h" / "BTC_USDT.csv"
    path.parent.mkdir()
    path.write_text("timestamp,open,high,low,close\n0,1,1,1,1\n")
    with pytest.raises(BadInput, match="missing column.*volume"):
        read_ohlcv(tmp_path, "BTC/USDT", "1h")
    path.write_text("timestamp,open,high,low,close,volume\n2025-01-01,1,1,1,1,1\nyesterday,1,1,1,1,1\n")
    with pytest.raises(BadInput, match="row 2: timestamp 'yesterday'"):
        read_ohlcv(tmp_path, "BTC/USDT", "1h")


def test_iso_timestamps_and_parquet_read_the_same_as_int_ms(tmp_path):
    iso = [(pd.Timestamp(r[0], unit="ms", tz="UTC").isoformat(),) + r[1:] for r in GOOD]
    write(tmp_path / "iso", iso)
    write(tmp_path / "pq", GOOD, fmt="parquet")
    ts_iso, v_iso = read_ohlcv(tmp_path / "iso", "BTC/USDT", "1h")
    ts_pq, v_pq = read_ohlcv(tmp_path / "pq", "BTC/USDT", "1h")
    assert ts_iso.tolist() == ts_pq.tolist() == [r[0] for r in GOOD]
    assert v_iso["close"].tolist() == v_pq["close"].tolist()


def test_symbols_interleave_by_time_then_symbol_and_select_the_window(tmp_path):
    write(tmp_path, GOOD, "ETH_USDT")
    write(tmp_path, GOOD, "BTC_USDT")
    candles = load_candles(tmp_path, ["ETH/USDT", "BTC/USDT"], "1h", start_ms=1 * H, end_ms=3 * H)
    assert [(c.ts, c.symbol) for c in candles] == [
        (1 * H, "BTC/USDT"), (1 * H, "ETH/USDT"), (2 * H, "BTC/USDT"), (2 * H, "ETH/USDT")]
    last_two = load_candles(tmp_path, ["BTC/USDT"], "1h", bars=2)
    assert [c.ts for c in last_two] == [2 * H, 3 * H] and last_two[0].close == 102.5


def test_the_embedded_fixtures_are_clean():
    candles = load_candles(FIXTURES, ["BTC/USDT", "ETH/USDT"], "1h")
    assert len(candles) == 2_000 and candles[0].symbol == "BTC/USDT"


def test_flag_values_are_checked():
    assert timeframe_ms("4h") == 4 * H and timeframe_ms("15m") == 900_000
    assert parse_iso_ms("1970-01-01T02:00", "--start") == 2 * H
    with pytest.raises(BadInput, match="timeframe 'hourly'"):
        timeframe_ms("hourly")
    with pytest.raises(BadInput, match="--end 'soon'"):
        parse_iso_ms("soon", "--end")
    with pytest.raises(BadInput, match="--bars 0"):
        load_candles(FIXTURES, ["BTC/USDT"], "1h", bars=0)
