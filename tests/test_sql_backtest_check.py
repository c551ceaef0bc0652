"""An independent check of a real 1h backtest (BTC + ETH, ~10k bars each), using only `journal sql`.

The strategy's rules are restated here as SQL over the projection views, never by calling
the core: every signal is a true breakout, every unblocked breakout while flat has a signal
record, entries fill at the next bar's open, fills lie inside their bar, stops never loosen.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest_projection import journal_in_process

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ohlcv"
pytestmark = pytest.mark.skipif(not (SHARED / "1h" / "BTC_USDT.csv").exists() and
                                not (SHARED / "1h" / "BTC_USDT.parquet").exists(),
                                reason=f"full real candles not present in {SHARED}")

CHANNEL = """ch AS (
  SELECT symbol, ts, open, close, max(high) OVER w AS hh, min(low) OVER w AS ll, count(*) OVER w AS n
  FROM candles WINDOW w AS (PARTITION BY symbol ORDER BY ts ROWS BETWEEN {n} PRECEDING AND 1 PRECEDING))"""

FLAT_BREAKOUTS = """WITH {channel},
bo AS (SELECT symbol, ts, CASE WHEN close > hh THEN 'long' ELSE 'short' END AS side FROM ch
       WHERE n = {n} AND (close > hh OR close < ll)),
resets AS (SELECT symbol, ts, payload->>'side' AS side FROM events WHERE kind = 'structural_reset'),
blocked AS (  -- after an exit, the same side needs a structural reset (a close back inside the channel)
  SELECT t.symbol, t.side, t.exit_ts AS from_ts,
         (SELECT min(r.ts) FROM resets r WHERE r.symbol = t.symbol AND r.side = t.side AND r.ts >= t.exit_ts) AS to_ts
  FROM trades t)
SELECT bo.symbol, bo.ts, bo.side,
       EXISTS (SELECT 1 FROM signals s WHERE s.symbol = bo.symbol AND s.ts = bo.ts AND s.side = bo.side) AS recorded
FROM bo
WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.symbol = bo.symbol AND bo.ts >= t.entry_ts AND bo.ts < t.exit_ts)
  AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.symbol = bo.symbol AND b.side = bo.side AND bo.ts >= b.from_ts
                  AND (b.to_ts IS NULL OR bo.ts < b.to_ts))"""


def sql(journal: Path, query: str) -> list[dict]:
    out = journal_in_process("sql", journal, query, "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    journal = tmp_path_factory.mktemp("bt") / "journal"
    bot = Path(sys.executable).with_name("bot")
    run = subprocess.run([str(bot), "backtest", "--data", str(SHARED), "--symbols", "BTC/USDT", "ETH/USDT",
                          "--timeframe", "1h", "--journal", str(journal)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    settings = sql(journal, "SELECT payload->'settings' AS s FROM events WHERE kind = 'session_started'")[0]["s"]
    params = settings.get("params", settings)
    return journal, int(params["donchian_len"]), params.get("slippage_bps", 0.0), settings


def test_the_backtest_is_big_enough_to_mean_something(backtest):
    journal, *_ = backtest
    counts = sql(journal, "SELECT (SELECT count(*) FROM candles) AS candles, (SELECT count(*) FROM trades) AS trades,"
                          " (SELECT count(*) FROM signals) AS signals")[0]
    assert counts["candles"] > 19_000 and counts["trades"] > 100 and counts["signals"] > counts["trades"]


def test_every_recorded_signal_is_a_true_breakout_of_the_previous_bars(backtest):
    journal, n, *_ = backtest
    bad = sql(journal, f"""WITH {CHANNEL.format(n=n)}
        SELECT s.seq, s.symbol, s.ts, s.side FROM signals s LEFT JOIN ch USING (symbol, ts)
        WHERE ch.ts IS NULL OR NOT (ch.n = {n} AND ((s.side = 'long' AND ch.close > ch.hh)
                                                 OR (s.side = 'short' AND ch.close < ch.ll)))
           OR s.channel_high <> ch.hh OR s.channel_low <> ch.ll OR s.close <> ch.close""")
    assert bad == []


def test_every_unblocked_breakout_while_flat_has_a_signal_record(backtest):
    journal, n, *_ = backtest
    rows = sql(journal, FLAT_BREAKOUTS.format(channel=CHANNEL.format(n=n), n=n))
    assert len(rows) > 100
    assert [r for r in rows if not r["recorded"]] == []


def test_every_entry_fills_at_the_next_bar_open_after_an_accepted_signal(backtest):
    journal, n, slippage_bps, _ = backtest
    assert slippage_bps == 0.0  # the default; with slippage the price would be open * (1 +- bps)
    bad = sql(journal, """SELECT f.seq, f.symbol, f.ts, f.price, c.open FROM fills f
        LEFT JOIN signals s ON s.symbol = f.symbol AND s.accepted AND s.ts = f.ts - 3600000
        LEFT JOIN candles c ON c.symbol = f.symbol AND c.ts = f.ts
        WHERE f.purpose = 'entry' AND (s.seq IS NULL OR c.ts IS NULL OR f.price <> c.open)""")
    assert bad == []
    entries = sql(journal, "SELECT count(*) AS n FROM fills WHERE purpose = 'entry'")[0]["n"]
    assert entries == sql(journal, "SELECT count(*) AS n FROM trades")[0]["n"]


def test_every_fill_lies_within_its_bar(backtest):
    journal, *_ = backtest
    bad = sql(journal, """SELECT f.seq, f.symbol, f.ts, f.price FROM fills f LEFT JOIN candles c USING (symbol, ts)
        WHERE c.ts IS NULL OR f.price < c.low OR f.price > c.high""")
    assert bad == []


def test_stops_never_loosen_within_a_trade(backtest):
    journal, *_ = backtest
    bad = sql(journal, """WITH s AS (
            SELECT *, sum(CASE WHEN reason = 'initial' THEN 1 ELSE 0 END)
                      OVER (PARTITION BY symbol ORDER BY seq) AS trade_no FROM stops),
        l AS (SELECT *, lag(stop_price) OVER (PARTITION BY symbol, trade_no ORDER BY seq) AS prev FROM s)
        SELECT seq, symbol, side, reason, prev, stop_price FROM l
        WHERE prev IS NOT NULL AND ((side = 'long' AND stop_price < prev) OR (side = 'short' AND stop_price > prev))""")
    assert bad == []
    moves = sql(journal, "SELECT count(*) AS n FROM stops WHERE reason <> 'initial'")[0]["n"]
    assert moves > 100
