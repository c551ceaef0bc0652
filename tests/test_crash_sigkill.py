"""Crash-only restart under real SIGKILLs: 20+ `bot live` runs killed, then finished.

Most kills land exactly at the two moments that matter for exactly-once orders (via the test-only
`BOT_TEST_CRASH_AT` hook, `cli/crash_hook.py`, which SIGKILLs the process itself): after an order intent is
durable but before the exchange saw it, and after the exchange acted but before its answer was recorded
(for submits and cancels); the rest at random moments. After every kill a restart (the same recovery +
reconciliation path, `cli.bootstrap.assemble`) must leave every open position with a live stop; at the end
the fills equal an uninterrupted run, no client order id was placed twice, and the journal verifies and
replays exactly.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from cli.bootstrap import RunSpec, paper_runtime
from cli.replay import replay_journal
from cli.run_options import load_run_config
from conftest_lead import FIXTURES, backtest, run_main
from exchange.paper import PaperExchange
from exchange.paper_state import STATE_FILE
from journal.events import CandleClosed, OrderFilled, OrderSubmitted, Reconciled
from journal.reader import read_events

BOT = str(Path(sys.executable).with_name("bot"))
BARS = 400
SCHEDULE = (
    [("submit", n, "before") for n in (1, 2, 3, 1, 2, 3)]
    + [("submit", n, "after") for n in (1, 2, 3, 1, 2, 3)]
    + [("cancel", n, "before") for n in (1, 2)]
    + [("cancel", n, "after") for n in (1, 2)]
    + [None] * 4  # random moments
)


def fills(journal: Path) -> list[tuple]:
    return [(e.symbol, e.ts, e.side, e.qty, e.price, e.purpose) for e in read_events(journal)
            if isinstance(e, OrderFilled)]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "data"
    (root / "1h").mkdir(parents=True)
    for name in ("BTC_USDT", "ETH_USDT"):
        pd.read_csv(FIXTURES / "1h" / f"{name}.csv").tail(BARS).to_csv(root / "1h" / f"{name}.csv", index=False)
    return root


def env(crash: str | None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "BINANCE_"))}
    if crash:
        out["BOT_TEST_CRASH_AT"] = crash
    return out


def run_bot(journal: Path, data: Path, crash: str | None, speed: str = "max") -> subprocess.Popen:
    return subprocess.Popen([BOT, "live", "--exchange", "paper", "--data", str(data), "--speed", speed,
                             "--journal", str(journal), "--json"], env=env(crash), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def restart_and_check_protection(journal: Path) -> None:
    """What a restart does before trading (recover, rebuild, reconcile) — then every position has a stop."""
    candles = [e for e in read_events(journal) if isinstance(e, CandleClosed)]
    run_config = load_run_config(None, "1h", use_env=False)
    spec = RunSpec(mode="paper", journal_dir=journal, params=run_config.params, symbols=("BTC/USDT", "ETH/USDT"),
                   timeframe="1h", settings=run_config.settings, config_digest=run_config.digest)
    runtime = paper_runtime(spec, session_ts=candles[-1].ts if candles else 0)
    runtime.close()
    venue = PaperExchange(state_path=journal / STATE_FILE)
    for position in venue.positions():
        stops = [o for o in venue.open_orders(position.symbol) if o.order_kind == "stop_market" and o.reduce_only]
        assert stops, f"{position.symbol} {position.side} {position.qty} open without a live stop after restart"


def test_twenty_sigkills_at_the_critical_moments_end_like_an_uninterrupted_run(data, tmp_path):
    expected = fills(backtest(tmp_path / "uninterrupted", data=data, bars=None))
    journal = tmp_path / "j"
    rng = random.Random(20261128)
    kills = Counter()
    for crash in SCHEDULE:
        spec = ":".join(map(str, crash)) if crash else None
        proc = run_bot(journal, data, spec, speed="max" if crash else "20000")
        if crash is None:
            time.sleep(rng.uniform(1.0, 2.5))
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        if proc.returncode == -signal.SIGKILL:
            kills[crash[0] + ":" + crash[2] if crash else "random"] += 1
            restart_and_check_protection(journal)
        else:
            assert proc.returncode == 0, proc.stderr
    assert sum(kills.values()) >= 20, kills
    assert kills["submit:before"] >= 4 and kills["submit:after"] >= 4, kills
    assert kills["cancel:before"] >= 1 and kills["cancel:after"] >= 1, kills
    finish = run_bot(journal, data, None)
    out, err = finish.communicate(timeout=120)
    assert finish.returncode == 0, err
    events = list(read_events(journal))
    submitted = Counter(e.client_id for e in events if isinstance(e, OrderSubmitted))
    assert [cid for cid, n in submitted.items() if n > 1] == []
    reconciled = [e for e in events if isinstance(e, Reconciled)]
    assert len(reconciled) >= sum(kills.values())  # every restart records what it found and did
    assert any(r.differences and r.actions for r in reconciled)
    assert fills(journal) == expected
    assert run_main("journal", "verify", str(journal))[0] == 0
    assert replay_journal(journal).ok
