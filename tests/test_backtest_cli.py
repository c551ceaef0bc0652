"""`bot backtest` through its real command line (subprocess): exit codes, digest, summary."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cli.replay import replay_journal
from cli.restart import rebuild_state
from journal.events import CandleClosed, PositionClosed
from journal.reader import read_events
from journal.stats import journal_stats
from machine.params import Params

REPO = Path(__file__).resolve().parent.parent
BOT = [sys.executable, "-c", "from cli.main import bot_main; bot_main()"]
FIXTURES = REPO / "tests" / "data" / "ohlcv"


def bot(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_CONFIG_JSON", "BASELINE_OHLCV_DIR")}
    return subprocess.run([*BOT, *args], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


def bot_journal(*args: object) -> subprocess.CompletedProcess:
    code = "import sys; from cli.main import journal_main; sys.argv = ['journal', *sys.argv[1:]]; journal_main()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def backtest(journal: Path, *extra: str, data: Path = FIXTURES) -> subprocess.CompletedProcess:
    return bot("backtest", "--data", str(data), "--symbols", "BTC/USDT", "ETH/USDT", "--timeframe", "1h",
               "--bars", "500", "--journal", str(journal), "--json", *extra)


def test_two_runs_on_the_same_inputs_have_the_same_content_digest(tmp_path):
    first, second = backtest(tmp_path / "a"), backtest(tmp_path / "b")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    a, b = journal_stats(tmp_path / "a"), journal_stats(tmp_path / "b")
    assert a["records"] == b["records"] > 1000
    assert a["content_digest"] == b["content_digest"]
    assert json.loads(first.stdout)["run_id"] == json.loads(second.stdout)["run_id"]


def test_summary_matches_the_journal_and_the_journal_replays(tmp_path):
    done = backtest(tmp_path / "j")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    events = list(read_events(tmp_path / "j"))
    closed = [e for e in events if isinstance(e, PositionClosed)]
    assert summary["bars"] == sum(isinstance(e, CandleClosed) for e in events) == 1000
    assert summary["trades"] == len(closed) > 0
    assert summary["pnl"] == pytest.approx(sum(e.pnl for e in closed), abs=0.01)
    assert summary["win_rate"] == pytest.approx(sum(e.pnl > 0 for e in closed) / len(closed), abs=1e-4)
    assert 0.0 <= summary["max_drawdown"] < 1.0 and summary["bars_per_s"] > 0
    assert replay_journal(tmp_path / "j").ok


def test_candles_interleave_by_time_then_symbol_and_the_window_is_respected(tmp_path):
    done = bot("backtest", "--data", str(FIXTURES), "--symbols", "ETH/USDT,BTC/USDT", "--start",
               "2026-01-20", "--end", "2026-01-21T00:00Z", "--journal", str(tmp_path / "j"), "--json")
    assert done.returncode == 0, done.stderr
    candles = [e for e in read_events(tmp_path / "j") if isinstance(e, CandleClosed)]
    assert len(candles) == 48
    assert [(c.ts, c.symbol) for c in candles] == sorted((c.ts, c.symbol) for c in candles)
    assert candles[0].ts == 1768867200000 and candles[0].symbol == "BTC/USDT"


def test_a_bad_candle_exits_2_naming_file_and_row(tmp_path):
    folder = tmp_path / "data" / "1h"
    folder.mkdir(parents=True)
    frame = pd.read_csv(FIXTURES / "1h" / "BTC_USDT.csv").head(50)
    frame.loc[36, "high"] = frame.loc[36, "low"] - 1.0  # data row 37
    frame.to_csv(folder / "BTC_USDT.csv", index=False)
    done = bot("backtest", "--data", str(tmp_path / "data"), "--symbols", "BTC/USDT", "--journal",
               str(tmp_path / "j"))
    assert done.returncode == 2
    assert "BTC_USDT.csv: row 37: high < low" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["--symbols", "SOL/USDT"], "SOL_USDT.parquet: no candle file"),
        (["--symbols", "BTC/USDT", "oops"], "unexpected argument 'oops'"),
        (["--symbols", "BTC/USDT", "--timeframe", "hourly"], "timeframe 'hourly'"),
        (["--symbols", "BTC/USDT", "--start", "someday"], "--start 'someday'"),
        (["--symbols", "BTC/USDT", "--bars", "0"], "--bars 0"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, words):
    done = bot("backtest", "--data", str(FIXTURES), "--journal", str(tmp_path / "j"), *args)
    assert done.returncode == 2, done.stdout
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_backtest_never_appends_to_an_existing_journal(tmp_path):
    assert backtest(tmp_path / "j").returncode == 0
    again = backtest(tmp_path / "j")
    assert again.returncode == 2 and "already has records" in again.stderr


def test_config_rules_are_used_recorded_and_replayed(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"donchian_len": 30, "risk_pct": 0.01}')
    default, tuned = backtest(tmp_path / "a"), backtest(tmp_path / "b", "--config", str(config))
    assert default.returncode == 0 and tuned.returncode == 0, tuned.stderr
    [session] = [e for e in read_events(tmp_path / "b") if type(e).__name__ == "SessionStarted"]
    assert session.settings["params"]["donchian_len"] == 30 and session.settings["params"]["risk_pct"] == 0.01
    assert "binance_key" not in session.settings and "binance_secret" not in session.settings
    assert journal_stats(tmp_path / "a")["content_digest"] != journal_stats(tmp_path / "b")["content_digest"]
    assert replay_journal(tmp_path / "b").ok


def test_a_bad_config_value_exits_2_naming_the_key(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"donchian_len": "twenty"}')
    done = backtest(tmp_path / "j", "--config", str(config))
    assert done.returncode == 2 and "donchian_len" in done.stderr and "config.json" in done.stderr


def test_default_journal_dirs_are_fresh_and_symbols_parse_every_spelling(tmp_path):
    from cli.run_options import fresh_dir, parse_symbols

    first = fresh_dir(tmp_path, "backtest-abc")
    assert first == tmp_path / "backtest-abc"
    first.mkdir()
    assert fresh_dir(tmp_path, "backtest-abc") == first  # empty: reused
    (first / "00000000000000000001.seg").write_bytes(b"x")
    assert fresh_dir(tmp_path, "backtest-abc") == tmp_path / "backtest-abc-2"
    assert parse_symbols("btc/usdt", ["ETH/USDT,SOL/USDT", "BTC/USDT"]) == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    assert parse_symbols(None, []) == ("BTC/USDT", "ETH/USDT")


def test_a_run_that_ends_in_a_position_says_so_and_accounts_for_it(tmp_path):
    # Final equity counts the open position at the last close; the trades do not. The summary names the
    # position and its pnl so that initial equity + trade pnl + open pnl is the final equity.
    done = bot("backtest", "--data", str(FIXTURES), "--symbols", "BTC/USDT", "--timeframe", "1h",
               "--start", "2026-02-07T06:00", "--end", "2026-02-08T13:00", "--journal", str(tmp_path / "j"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    state = rebuild_state(read_events(tmp_path / "j"), Params()).state
    assert summary["open_positions"] == sorted(s for s, sym in state.sym.items() if sym.pos is not None)
    assert summary["open_positions"], "the fixture holds a position at 2026-02-08T12:00"
    assert summary["final_equity"] == pytest.approx(10_000 + summary["pnl"] + summary["open_pnl"], abs=0.02)


@pytest.mark.parametrize("where", ["a_file", "a_file/sub", "/proc/no_such_dir"])
def test_an_output_path_that_cannot_be_created_exits_2_naming_it(tmp_path, where):
    (tmp_path / "a_file").write_text("x")
    target = where if where.startswith("/") else str(tmp_path / where)
    done = bot("backtest", "--data", str(FIXTURES), "--symbols", "BTC/USDT", "--bars", "50", "--journal", target)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bot: error: ") and "Traceback" not in done.stderr
    assert (tmp_path / "a_file").read_text() == "x"  # nothing lost


def test_start_after_end_says_so(tmp_path):
    done = bot("backtest", "--data", str(FIXTURES), "--symbols", "BTC/USDT", "--start", "2026-02-01",
               "--end", "2026-01-15", "--journal", str(tmp_path / "j"))
    assert done.returncode == 2 and done.stderr.strip() == "bot: error: --start 2026-02-01 is not before --end 2026-01-15"


def test_ctrl_c_keeps_a_verified_partial_journal_and_says_so(tmp_path):
    """Ctrl-C mid-run: exit 130 with one line naming how far it got; the bars before it stay a valid,
    replayable journal (never a torn or silently 'finished' one)."""
    journal = tmp_path / "j"
    code = ("import os, signal, sys\nimport cli.backtest_cmd as b\nfrom cli.main import bot_main\n"
            "orig = b.run_candles\n"
            "def run_candles(feed, candles, show_progress):\n"
            "    seen = []\n"
            "    def fed(candle):\n"
            "        seen.append(1)\n"
            "        if len(seen) == 300:\n"
            "            os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, at a known bar\n"
            "        feed(candle)\n"
            "    return orig(fed, candles, show_progress)\n"
            "b.run_candles = run_candles\n"
            "sys.argv = ['bot', *sys.argv[1:]]\nbot_main()\n")
    run = subprocess.run([sys.executable, "-c", code, "backtest", "--data", str(FIXTURES), "--symbols", "BTC/USDT",
                          "ETH/USDT", "--timeframe", "1h", "--bars", "500", "--journal", str(journal)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 130, run.stderr
    assert run.stderr.strip().splitlines() == [
        f"bot: interrupted after 299 of 1,000 bars; {journal} holds that partial backtest "
        "(its session_started records bars=1000)"]
    assert bot_journal("verify", journal).returncode == 0
    assert bot_journal("replay", journal).stdout.strip().splitlines()[-1] == "all decisions reproduce"
