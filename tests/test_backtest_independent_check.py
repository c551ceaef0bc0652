"""An independent check of a real 1h backtest (BTC + ETH, ~10k bars each from ../shared),
using only `journal sql` over its journal: the strategy rules are recomputed in SQL from
the recorded candles and compared with what the bot recorded."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FULL_DATA = Path(os.environ.get("BASELINE_OHLCV_DIR_FULL", REPO.parent / "shared" / "data" / "ohlcv"))
BAR_MS = 3_600_000
N = 20  # donchian_len default
WARMUP = 21  # bars before the first possible signal (channel of 20 + ATR seeding)

pytestmark = pytest.mark.skipif(not (FULL_DATA / "1h" / "BTC_USDT.parquet").is_file(),
                                reason=f"full real candles not found under {FULL_DATA}")


def bot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cli.main import bot_main; bot_main()", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items() if k != "BOT_CONFIG_JSON"})


def sql(journal: Path, query: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", "from cli.main import journal_main; journal_main()", "sql",
                           str(journal), query, "--format", "json"], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


CHANNEL = f"""
channel AS (
  SELECT symbol, ts, open, high, low, close,
         max(high) OVER w AS hh, min(low) OVER w AS ll, count(*) OVER w AS n,
         row_number() OVER (PARTITION BY symbol ORDER BY ts) AS bar_no
  FROM candles WINDOW w AS (PARTITION BY symbol ORDER BY ts ROWS BETWEEN {N} PRECEDING AND 1 PRECEDING))
"""

VIOLATIONS = f"""
WITH {CHANNEL},
flat_breakouts AS (
  SELECT c.symbol, c.ts, CASE WHEN c.close > c.hh THEN 'long' ELSE 'short' END AS side
  FROM channel c
  WHERE c.bar_no > {WARMUP} AND (c.close > c.hh OR c.close < c.ll)
    AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.symbol = c.symbol AND t.entry_ts <= c.ts AND c.ts < t.exit_ts))
SELECT
  (SELECT count(*) FROM signals) AS signals,
  (SELECT count(*) FROM fills) AS fills,
  (SELECT count(*) FROM fills WHERE purpose = 'entry') AS entries,
  (SELECT count(*) FROM signals s JOIN channel c USING (symbol, ts)
     WHERE c.n < {N} OR NOT ((s.side = 'long' AND c.close > c.hh) OR (s.side = 'short' AND c.close < c.ll))
        OR abs(s.channel_high - c.hh) > 1e-9 OR abs(s.channel_low - c.ll) > 1e-9) AS false_signals,
  (SELECT count(*) FROM signals s LEFT JOIN channel c USING (symbol, ts) WHERE c.ts IS NULL) AS orphan_signals,
  (SELECT count(*) FROM flat_breakouts b
     WHERE NOT EXISTS (SELECT 1 FROM signals s WHERE s.symbol = b.symbol AND s.ts = b.ts AND s.side = b.side))
     AS unrecorded_breakouts,
  (SELECT count(*) FROM fills f JOIN candles c USING (symbol, ts)
     LEFT JOIN signals s ON s.symbol = f.symbol AND s.ts = f.ts - {BAR_MS} AND s.accepted
                         AND (s.side = 'long') = (f.side = 'buy')
     WHERE f.purpose = 'entry' AND (s.seq IS NULL OR f.price <> c.open)) AS bad_entries,
  (SELECT count(*) FROM fills f LEFT JOIN candles c USING (symbol, ts)
     WHERE c.ts IS NULL OR f.price < c.low OR f.price > c.high) AS fills_outside_bar
"""


@pytest.fixture(scope="module")
def journal(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("real") / "journal"
    done = bot("backtest", "--data", str(FULL_DATA), "--symbols", "BTC/USDT", "ETH/USDT", "--timeframe", "1h",
               "--journal", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bars"] > 19_000
    return path


def test_recorded_decisions_agree_with_rules_recomputed_in_sql(journal):
    [row] = sql(journal, VIOLATIONS)
    assert row["signals"] > 300 and row["entries"] > 300 and row["fills"] > row["entries"]
    assert row["false_signals"] == 0, "a recorded signal is not a breakout of the previous 20 bars"
    assert row["orphan_signals"] == 0
    assert row["unrecorded_breakouts"] == 0, "a breakout while flat left no signal record"
    assert row["bad_entries"] == 0, "an entry not at the next bar's open after an accepted signal"
    assert row["fills_outside_bar"] == 0, "a fill outside its bar's [low, high]"


def test_stops_never_loosen_within_a_trade(journal):
    rows = sql(journal, "SELECT symbol, seq, side, stop_price, reason FROM stops ORDER BY symbol, seq")
    assert len(rows) > 300
    last: dict[str, tuple[str, float]] = {}
    moves = 0
    for row in rows:
        if row["reason"] == "initial" or row["symbol"] not in last:
            last[row["symbol"]] = (row["side"], row["stop_price"])
            continue
        side, previous = last[row["symbol"]]
        assert row["side"] == side, f"seq {row['seq']}: side changed without a new initial stop"
        loosened = row["stop_price"] < previous if side == "long" else row["stop_price"] > previous
        assert not loosened, f"seq {row['seq']} {row['symbol']}: stop loosened {previous} -> {row['stop_price']}"
        last[row["symbol"]] = (side, row["stop_price"])
        moves += 1
    assert moves > 100
