"""Fuzz the candle readers (`exchange/ohlcv.py`) through `bot backtest --data` (issue 9): one definite
defect in an otherwise good file (bad cell, NaN, duplicate, reordering, gap, missing column, high < low,
negative volume, truncation, garbage bytes) exits 2 with one line naming the file, no traceback, no journal."""
from __future__ import annotations

import string
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest_lead import FIXTURES, run_main

ROWS = 40
GOOD = pd.read_csv(FIXTURES / "1h" / "BTC_USDT.csv").head(ROWS)
VALUES = ["open", "high", "low", "close", "volume"]
JUNK = st.one_of(st.sampled_from(["nan", "inf", "-inf", "", "NaN", "1e999"]),
                 st.text(string.ascii_letters + "#$%", min_size=1, max_size=6).map(lambda t: "x" + t))
INNER = st.integers(1, ROWS - 2)


def _cell(frame: pd.DataFrame, row: int, column: str, text: str) -> str:
    frame = frame.astype(object)
    frame.loc[row, column] = text
    return frame.to_csv(index=False)


MUTATIONS = st.one_of(
    st.tuples(INNER, st.sampled_from(VALUES), JUNK).map(lambda a: _cell(GOOD, *a)),
    st.tuples(INNER, JUNK).map(lambda a: _cell(GOOD, a[0], "timestamp", "t" + a[1])),
    INNER.map(lambda i: pd.concat([GOOD.iloc[:i + 1], GOOD.iloc[i:]]).to_csv(index=False)),  # duplicate row
    INNER.map(lambda i: GOOD.drop(index=i).to_csv(index=False)),  # gap
    INNER.map(lambda i: GOOD.iloc[[*range(i), i + 1, i, *range(i + 2, ROWS)]].to_csv(index=False)),  # swapped
    st.sampled_from(["timestamp", *VALUES]).map(lambda c: GOOD.drop(columns=[c]).to_csv(index=False)),
    st.tuples(INNER, st.floats(0.01, 1000)).map(
        lambda a: GOOD.assign(high=[h if i != a[0] else lo - a[1] for i, (h, lo) in
                                    enumerate(zip(GOOD.high, GOOD.low))]).to_csv(index=False)),
    INNER.map(lambda i: GOOD.assign(volume=[-v if j == i else v for j, v in enumerate(GOOD.volume)]
                                    ).to_csv(index=False).replace("--", "-")),
    st.just(",".join(GOOD.columns) + "\n"),  # header only
    st.binary(min_size=1, max_size=200).map(lambda b: b"\x00\xff" + b),  # garbage
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=MUTATIONS, suffix=st.sampled_from(["csv", "parquet"]))
def test_a_malformed_candle_file_exits_2_naming_it_and_writes_nothing(tmp_path_factory, content, suffix):
    base = tmp_path_factory.mktemp("ohlcv")
    folder = base / "data" / "1h"
    folder.mkdir(parents=True)
    path = folder / f"BTC_USDT.{suffix}"
    if suffix == "parquet" and isinstance(content, str):
        from io import StringIO

        frame = pd.read_csv(StringIO(content), dtype=str) if content.count("\n") > 1 else pd.DataFrame()
        if frame.empty:
            path.write_bytes(b"PAR1garbage")
        else:
            frame.to_parquet(path)
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    journal = base / "journal"
    rc, _, err = run_main("bot", "backtest", "--data", str(base / "data"), "--symbols", "BTC/USDT",
                          "--timeframe", "1h", "--journal", str(journal))
    assert rc == 2, err
    line = err.strip()
    assert line and "\n" not in line and "Traceback" not in err, err
    assert "BTC_USDT" in line, line
    assert not journal.exists() or not any(journal.iterdir()), "bad input must not write a journal"
