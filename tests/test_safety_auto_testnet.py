"""AUTO_TESTNET_ON_DD end to end (issue 9, runbook row 1) against two sims: one stands in for live, one
for testnet. A daily drawdown beyond DAILY_DD_LIMIT runs the policy (protect: stops kept, entries blocked),
then the live session ends, the live venue is checked for orders of ours that could add exposure (none),
the Slack stand-in gets the AUTO_TESTNET_ON_DD alert, and a new session starts on the testnet venue,
recorded as SessionStarted(mode="testnet") in `<journal>-testnet` naming the live run it replaced."""
from __future__ import annotations

import pytest

from conftest_lead import FIXTURES, run_main
from conftest_safety import (
    KEY, SECRET, SlackStandIn, events_of, live_env, secret_hits, start_bot, stop_bot, wait_for,
)
from exchange.sim.boot import build_server
from journal.events import CandleClosed, ClockObserved, EmergencyAction, EquityObserved, SessionStarted


def caught_up(journal, candles: int) -> bool:
    events = events_of(journal)
    seen = sum(1 for e in events if isinstance(e, CandleClosed))
    return seen >= candles and bool(events) and isinstance(events[-1], (EquityObserved, ClockObserved))


def switched(journal) -> bool:
    return any(isinstance(e, EmergencyAction) and e.action == "switch_testnet" for e in events_of(journal))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("dd")
    live = build_server(FIXTURES, key=KEY, secret=SECRET, speed=0.0, retry_after_s=0).start()
    testnet = build_server(FIXTURES, key=KEY, secret=SECRET, speed=0.0, retry_after_s=0).start()
    slack = SlackStandIn()
    journal, log = base / "journal", base / "bot.log"
    env = live_env(live.url, TESTNET="false", AUTO_TESTNET_ON_DD="true", DAILY_DD_LIMIT="0.0005",
                   BINANCE_TESTNET_BASE_URL=testnet.url, SLACK_WEBHOOK_URL=slack.url)
    proc = start_bot(journal, env, log, base)
    testnet_journal = base / "journal-testnet"
    try:
        wait_for(lambda: caught_up(journal, 120), what="warm-up")
        for i in range(300):
            live.step(1)
            wait_for(lambda: switched(journal) or caught_up(journal, 120 + 2 * (i + 1)), what=f"bar {i}")
            if switched(journal):
                break
        assert switched(journal), "no daily drawdown within 300 bars"
        wait_for(lambda: any(isinstance(e, SessionStarted) for e in events_of(testnet_journal))
                 and caught_up(testnet_journal, 120), what="testnet session warm-up")
        testnet.step(1)
        wait_for(lambda: caught_up(testnet_journal, 122), what="a testnet bar")
        rc, out = stop_bot(proc)
        with live.lock:
            live_orders = [o for o in live.venue.orders.values() if o.is_open]
            live_stops = [o for o in live.venue.algos.values() if o.is_open]
            positions = {s: p.qty for s, p in live.venue.ledger.positions.items() if abs(p.qty) > 1e-12}
        yield {"rc": rc, "out": out, "journal": journal, "testnet_journal": testnet_journal, "slack": slack,
               "live_orders": live_orders, "live_stops": live_stops, "positions": positions, "base": base}
    finally:
        if proc.poll() is None:
            proc.kill()
        slack.stop()
        live.stop()
        testnet.stop()


def test_the_drawdown_protects_first_then_asks_for_the_switch(run):
    actions = [(a.action, a.trigger) for a in events_of(run["journal"]) if isinstance(a, EmergencyAction)]
    assert actions[0] == ("block_entries", "daily_dd") and actions[-1] == ("switch_testnet", "daily_dd")
    assert ("ensure_stop", "daily_dd") in actions  # the drawdown happens with a position open


def test_a_new_testnet_session_is_recorded_naming_the_live_run(run):
    live_session = next(e for e in events_of(run["journal"]) if isinstance(e, SessionStarted))
    sessions = [e for e in events_of(run["testnet_journal"]) if isinstance(e, SessionStarted)]
    assert live_session.mode == "live" and [s.mode for s in sessions] == ["testnet"]
    origin = sessions[0].settings["switched_from"]
    assert origin["run_id"] == live_session.run_id and origin["live_orders"]["exposing"] == 0
    assert run["rc"] == 0


def test_no_live_order_that_could_add_exposure_remains_and_positions_keep_their_stops(run):
    assert all(o.reduce_only for o in run["live_orders"])
    for symbol, qty in run["positions"].items():
        closing = "SELL" if qty > 0 else "BUY"
        assert any(o.symbol == symbol and o.side == closing and o.type == "STOP_MARKET" and o.reduce_only
                   for o in run["live_stops"]), symbol


def test_alert_sent_and_both_journals_verify_and_replay(run):
    assert any("AUTO_TESTNET_ON_DD" in text for text in run["slack"].texts())
    for journal in (run["journal"], run["testnet_journal"]):
        assert run_main("journal", "verify", str(journal))[0] == 0
        rc, _, err = run_main("journal", "replay", str(journal))
        assert rc == 0, err


def test_no_key_or_webhook_in_anything_written(run):
    assert secret_hits([run["base"]], [run["out"], *map(str, run["slack"].messages)]) == []
