"""The seed's regression: signals exact, stops exact, report metrics within rel/abs 1e-2.

`data/testnet/baseline.json` was written by `bot baseline --symbols BTC/USDT ETH/USDT --timeframe 1h --bars 180`
from the repo's fixtures (BASELINE_OHLCV_DIR). A code change that moves a single decision fails here; an
intentional change regenerates the baseline (README "Backtest, replay and baseline").
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from cli.baseline import TOLERANCE, build_baseline, compare_decisions, load_baseline
from conftest_lead import FIXTURES, ROOT, backtest, run_main

BASELINE = ROOT / "data" / "testnet" / "baseline.json"
DATA = Path(os.environ.get("BASELINE_OHLCV_DIR", FIXTURES))


@pytest.fixture(scope="module")
def committed() -> dict:
    return load_baseline(BASELINE)


@pytest.fixture(scope="module")
def regenerated(committed) -> dict:
    return build_baseline(DATA, committed["symbols"], committed["timeframe"], committed["bars"])


def test_baseline_structure(committed):
    assert committed["symbols"] == ["BTC/USDT", "ETH/USDT"] and committed["bars"] == 180
    for symbol in committed["symbols"]:
        assert len(committed["candles"][symbol]) == 180
    assert committed["signals"] and committed["stops"] and committed["trades"]
    for key in ("win_rate", "expectancy", "mdd", "profit_factor", "sharpe"):
        assert key in committed["report_metrics"]
    assert {s["reason"] for s in committed["stops"]} >= {"initial"}


def test_regenerated_signals_match_baseline_exactly(committed, regenerated):
    assert regenerated["signals"] == committed["signals"]
    assert regenerated["stops"] == committed["stops"]
    assert regenerated["candles"] == committed["candles"]


def test_regenerated_metrics_match_baseline_within_tolerance(committed, regenerated):
    for key in ("win_rate", "expectancy", "mdd", "profit_factor", "sharpe"):
        want, got = committed["report_metrics"][key], regenerated["report_metrics"][key]
        assert math.isclose(want, got, rel_tol=TOLERANCE, abs_tol=TOLERANCE), key


def test_compare_flags_a_moved_signal(committed):
    moved = json.loads(json.dumps(committed))
    moved["signals"][0]["close"] += 1.0
    problems = compare_decisions(committed, moved)
    assert problems and "signals[0]" in problems[0] and "close" in problems[0]


def test_journal_replay_checks_a_journal_against_the_baseline(committed, tmp_path):
    journal = backtest(tmp_path / "j", data=DATA, bars=committed["bars"])
    rc, out, err = run_main("journal", "replay", str(journal), "--baseline", str(BASELINE))
    assert rc == 0, err
    tampered = json.loads(BASELINE.read_text())
    tampered["report_metrics"]["win_rate"] += 0.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered))
    rc, out, err = run_main("journal", "replay", str(journal), "--baseline", str(bad))
    assert rc == 1 and "win_rate" in err


def test_baseline_and_refresh_commands_write_the_file(tmp_path):
    out_file = tmp_path / "baseline.json"
    rc, out, err = run_main("bot", "baseline", "--symbols", "BTC/USDT", "ETH/USDT", "--timeframe", "1h",
                            "--bars", "180", "--output", str(out_file), "--data", str(DATA))
    assert rc == 0, err
    written = json.loads(out_file.read_text())
    written.pop("report_metrics")
    out_file.write_text(json.dumps(written))
    rc, out, err = run_main("bot", "refresh-baseline-metrics", "--baseline", str(out_file))
    assert rc == 0, err
    assert "report_metrics" in json.loads(out_file.read_text())


def test_missing_baseline_file_is_bad_input(tmp_path):
    rc, out, err = run_main("bot", "refresh-baseline-metrics", "--baseline", str(tmp_path / "none.json"))
    assert rc == 2 and "none.json" in err
