"""The fault soak in small (issue 9): `bench/soak.py` drives `bot live --exchange binance` against the
fault-injecting sim on the repo's 1000-bar fixtures until 30 orders were sent. Every fault kind is armed;
the run must show faults injected, zero duplicate orders, zero unprotected bar closes, and a journal that
verifies and replays. (The 500-order run on the full candles is in README "Benchmarks".)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest_lead import FIXTURES

ROOT = Path(__file__).resolve().parents[1]
FAULTS = ("http_5xx=0.06,rate_limit=0.03,ban=0.01,nonce=0.02,timeout_after_accept=0.04,drop_response=0.06,"
          "partial_fill=0.15,seed=11,hold_ms=10500")


def test_small_soak_has_no_duplicates_no_naked_positions_and_a_replayable_journal(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--orders", "30", "--faults", FAULTS,
                          "--data", str(FIXTURES), "--journal", str(tmp_path / "journal"), "--json"],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["orders"] >= 30 and figures["bars"] > 0
    assert figures["faults_total"] >= 10 and figures["fault_eligible_requests"] > figures["faults_total"]
    assert figures["duplicate_orders"] == 0
    assert figures["unprotected_bar_closes"] == 0 and figures["position_bar_closes"] > 0
    assert figures["journal_verify_ok"] and figures["journal_replay_ok"]


def test_soak_refuses_a_used_journal(tmp_path):
    (tmp_path / "journal").mkdir()
    (tmp_path / "journal" / "x").write_text("x")
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--orders", "1", "--data", str(FIXTURES),
                          "--journal", str(tmp_path / "journal")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "must be new or empty" in run.stderr
