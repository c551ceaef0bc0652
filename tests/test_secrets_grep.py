"""Secrets never reach anything written (issue 9): a live session against the sim with API keys and a
Slack webhook (orders, errors, alerts, a kill-switch trip, /metrics scraped), then every output the
project makes from its journal (report JSON/CSV/XLSX, Parquet export, SQL, tail, audit, stats): the keys
and the webhook URL appear in no file and no command output."""
from __future__ import annotations

import urllib.request

import pytest

from conftest_lead import FIXTURES, run_main
from conftest_safety import (
    KEY, SECRET, SlackStandIn, events_of, free_port, live_env, secret_hits, start_bot, stop_bot, wait_for,
)
from exchange.sim.boot import build_server
from exchange.sim.faults import FaultSpec
from journal.events import CandleClosed, OrderFilled


def candles(journal) -> int:
    return sum(isinstance(e, CandleClosed) for e in events_of(journal))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    base = tmp_path_factory.mktemp("secrets")
    sim = build_server(FIXTURES, key=KEY, secret=SECRET, speed=0.0, retry_after_s=0).start()
    slack = SlackStandIn()
    journal, log, port = base / "journal", base / "bot.log", free_port()
    env = live_env(sim.url, SLACK_WEBHOOK_URL=slack.url, KILL_SWITCH_MAX_ERRORS="3")
    proc = start_bot(journal, env, log, base, "--metrics-port", str(port))
    outputs: list[str] = []
    try:
        wait_for(lambda: candles(journal) >= 120, what="warm-up")
        for i in range(150):
            sim.step(1)
            wait_for(lambda: candles(journal) >= 122 + 2 * i, what=f"bar {i}")
            if any(isinstance(e, OrderFilled) for e in events_of(journal)):
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        (base / "metrics.txt").write_text(metrics)
        sim.set_faults(FaultSpec.parse("auth=1.0"))
        for _ in range(30):
            if proc.poll() is not None:
                break
            sim.step(1)
            try:
                proc.wait(timeout=1.0)
            except Exception:
                pass
        rc, out = stop_bot(proc)
        outputs.append(out)
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.stop()
        slack.stop()
    return base, journal, outputs, rc, metrics, slack


def test_nothing_written_contains_a_key_or_the_webhook(written):
    base, journal, outputs, rc, metrics, slack = written
    assert rc == 3  # the auth burst tripped the kill switch: errors, alerts and the trip were all written
    assert "bot_" in metrics and slack.messages
    commands = [
        ("bot", "report", "--journal", journal, "--json", "--csv", base / "csv", "--xlsx", base / "report.xlsx"),
        ("journal", "export", journal, "--parquet", base / "parquet"),
        ("journal", "sql", journal, "SELECT * FROM events", "--format", "csv"),
        ("journal", "tail", journal, "-n", "100000", "--json"),
        ("journal", "audit", journal, "--kill-switch", "--json"),
        ("journal", "stats", journal, "--json"),
    ]
    for prog, *args in commands:
        code, out, err = run_main(prog, *map(str, args))
        assert code == 0, (args, err)
        outputs += [out, err]
    assert (base / "csv").exists() and (base / "report.xlsx").exists() and (base / "bot.log").stat().st_size
    assert secret_hits([base], outputs + [str(m) for m in slack.messages]) == []
