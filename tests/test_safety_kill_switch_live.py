"""The kill switch end to end (issue 9, runbook row 2): `bot live --exchange binance` against the sim.

A position is opened and protected, then every signed request answers -1021 (sim fault `nonce=1`): the
burst trips the switch within KILL_SWITCH_MAX_ERRORS / KILL_SWITCH_WINDOW_SEC, the stop stays at the venue,
every symbol is halted, the JSON log has event=kill_switch_trigger, the Slack stand-in gets the alert and the
process exits 3. `journal audit --kill-switch` shows the trip with its errors. A restart with
SAFE_RESTART=false stays halted; one with SAFE_RESTART=true clears the halt and the error counters.
"""
from __future__ import annotations

import json

import msgspec
import pytest

from conftest_lead import FIXTURES, run_main
from conftest_safety import (
    KEY, SECRET, SlackStandIn, events_of, live_env, log_records, start_bot, stop_bot, wait_for,
)
from exchange.sim.boot import build_server
from exchange.sim.faults import FaultSpec
from journal.events import (
    CandleClosed, ClockObserved, EmergencyAction, EquityObserved, ErrorObserved, Halted, KillSwitchTripped,
    Resumed, SessionStarted,
)
from machine.evolve import evolve
from machine.params import Params
from machine.state import initial_state

MAX_ERRORS, WINDOW_SEC = 3, 120


def folded(events):
    session = next(e for e in events if isinstance(e, SessionStarted))
    state = initial_state(msgspec.convert(session.settings["params"], Params))
    for event in events:
        state = evolve(state, event)
    return state


def caught_up(journal, candles: int) -> bool:
    events = events_of(journal)
    seen = sum(1 for e in events if isinstance(e, CandleClosed))
    return seen >= candles and bool(events) and isinstance(events[-1], (EquityObserved, ClockObserved))


def protected_position(journal, sim) -> str | None:
    """A symbol with an open position whose reduce-only stop rests at the venue."""
    events = events_of(journal)
    if not events:
        return None
    state = folded(events)
    resting = {o["clientAlgoId"] for o in sim.venue.open_orders(None, algo=True)}
    for symbol, sym in state.sym.items():
        if sym.pos is not None and sym.stop_id in resting:
            return symbol
    return None


@pytest.fixture(scope="module")
def tripped(tmp_path_factory):
    base = tmp_path_factory.mktemp("kill")
    sim = build_server(FIXTURES, key=KEY, secret=SECRET, speed=0.0, retry_after_s=0).start()
    slack = SlackStandIn()
    journal, log = base / "journal", base / "bot.log"
    knobs = {"heartbeat_interval_sec": 1, "scheduler_interval_sec": 0.2, "dedupe_store": str(base / "dedupe.json")}
    env = live_env(sim.url, KILL_SWITCH_MAX_ERRORS=str(MAX_ERRORS), KILL_SWITCH_WINDOW_SEC=str(WINDOW_SEC),
                   SLACK_WEBHOOK_URL=slack.url, OBSERVABILITY=json.dumps(knobs))
    proc = start_bot(journal, env, log, base)
    try:
        wait_for(lambda: caught_up(journal, 120), what="warm-up candles")
        symbol = None
        for i in range(200):
            sim.step(1)
            wait_for(lambda: caught_up(journal, 120 + 2 * (i + 1)), what=f"bar {i}")
            symbol = protected_position(journal, sim)
            if symbol:
                break
        assert symbol, "no protected position within 200 bars"
        stop_before = {o["clientAlgoId"] for o in sim.venue.open_orders(None, algo=True)}
        sim.set_faults(FaultSpec.parse("nonce=1.0"))
        for _ in range(40):
            if proc.poll() is not None:
                break
            sim.step(1)
            wait_for(lambda: proc.poll() is not None or len(events_of(journal)) > 0, what="bot")
            try:
                proc.wait(timeout=1.5)
            except Exception:
                pass
        sim.set_faults(FaultSpec())
        rc, out = stop_bot(proc)
        stops_after = {o["clientAlgoId"] for o in sim.venue.open_orders(None, algo=True)}
        yield {"rc": rc, "out": out, "journal": journal, "log": log, "slack": slack, "sim": sim, "env": env,
               "symbol": symbol, "stops_before": stop_before, "stops_after": stops_after, "base": base}
    finally:
        if proc.poll() is None:
            proc.kill()
        slack.stop()
        sim.stop()


def test_a_nonce_burst_trips_the_switch_and_the_process_exits_3(tripped):
    assert tripped["rc"] == 3
    summary = json.loads(tripped["out"].strip().splitlines()[-1])
    assert "nonce" in summary["kill_switch"]["error_reasons"]


def test_the_trip_is_journaled_with_its_errors_and_halts_every_symbol(tripped):
    events = events_of(tripped["journal"])
    (trip,) = [e for e in events if isinstance(e, KillSwitchTripped)]
    assert (trip.max_errors, trip.window_sec) == (MAX_ERRORS, WINDOW_SEC)
    assert len(trip.error_reasons) >= MAX_ERRORS and set(trip.error_reasons) <= {"nonce", "auth", "time_drift"}
    burst = [e for e in events if isinstance(e, ErrorObserved) and e.reason == "nonce" and e.ts <= trip.ts]
    assert burst and trip.ts - burst[-MAX_ERRORS].ts <= WINDOW_SEC * 1000
    assert any(isinstance(e, Halted) and e.symbol is None and e.reason == "kill_switch" for e in events)
    assert folded(events).halted_all


def test_protective_stops_stay_at_the_venue(tripped):
    ensured = [e for e in events_of(tripped["journal"]) if isinstance(e, EmergencyAction)]
    assert ("ensure_stop", "done", tripped["symbol"], "kill_switch") in \
        [(a.action, a.outcome, a.symbol, a.trigger) for a in ensured]
    state = folded(events_of(tripped["journal"]))
    stop_id = state.sym[tripped["symbol"]].stop_id
    assert stop_id in tripped["stops_after"]


def test_the_heartbeat_alert_runs_on_the_configured_observability_knobs(tripped):
    # OBSERVABILITY (env or config.json) reaches the live session's scheduler, whose tick thread sends the
    # heartbeat: here every second instead of every 12 h.
    assert any(text.startswith("💓 Heartbeat: bot alive") for text in tripped["slack"].texts())
    assert (tripped["base"] / "dedupe.json").is_file()


def test_structured_log_and_slack_alert(tripped):
    records = log_records(tripped["log"])
    assert any(r.get("event") == "kill_switch_trigger" for r in records)
    assert any("kill-switch activated" in text for text in tripped["slack"].texts())


def test_journal_audit_shows_the_trip_with_its_errors(tripped):
    rc, out, err = run_main("journal", "audit", str(tripped["journal"]), "--kill-switch", "--json")
    assert rc == 0, err
    report = json.loads(out)
    text = json.dumps(report)
    assert "error_burst" in text and "nonce" in text


def test_restart_without_safe_restart_stays_halted_and_with_it_clears_the_counters(tripped):
    journal, base = tripped["journal"], tripped["base"]
    for flag, expect_resume in (("false", False), ("true", True)):
        sessions = sum(1 for e in events_of(journal) if isinstance(e, SessionStarted))
        proc = start_bot(journal, {**tripped["env"], "SAFE_RESTART": flag}, tripped["log"], base)
        wait_for(lambda: sum(1 for e in events_of(journal) if isinstance(e, SessionStarted)) > sessions
                 and isinstance(events_of(journal)[-1], (ClockObserved, EquityObserved)), what="restart")
        rc, _ = stop_bot(proc)
        assert rc == 0
        events = events_of(journal)
        resumed = [e for e in events if isinstance(e, Resumed) and e.reason == "safe_restart"]
        assert bool(resumed) is expect_resume
        state = folded(events)
        assert state.halted_all is not expect_resume
    assert state.error_ts == () and state.error_reasons == ()
    assert run_main("journal", "verify", str(journal))[0] == 0
    rc, _, err = run_main("journal", "replay", str(journal))
    assert rc == 0, err


def test_no_key_or_webhook_in_anything_the_runs_wrote(tripped):
    from conftest_safety import secret_hits

    assert secret_hits([tripped["base"]], [tripped["out"], *map(str, tripped["slack"].messages)]) == []


def test_a_restart_that_finds_a_position_without_its_stop_places_a_new_one(tripped):
    """The venue lost the stop while the bot was down: reconciliation sees the naked position and the
    policy (protect_only) places a new reduce-only stop before trading resumes."""
    journal, sim, symbol = tripped["journal"], tripped["sim"], tripped["symbol"]
    state = folded(events_of(journal))
    lost = state.sym[symbol].stop_id
    with sim.lock:
        order = next(o for o in sim.venue.algos.values() if o.client_id == lost)
        order.status = "CANCELED"
    sim.set_faults(FaultSpec())
    runs = sum(1 for e in events_of(journal) if isinstance(e, SessionStarted))
    proc = start_bot(journal, {**tripped["env"], "SAFE_RESTART": "true"}, tripped["log"], tripped["base"])
    wait_for(lambda: sum(1 for e in events_of(journal) if isinstance(e, SessionStarted)) > runs
             and isinstance(events_of(journal)[-1], (ClockObserved, EquityObserved)), what="restart")
    rc, _ = stop_bot(proc)
    assert rc == 0
    actions = [(a.action, a.outcome, a.symbol) for a in events_of(journal)
               if isinstance(a, EmergencyAction) and a.trigger == "reconcile_unprotected"]
    assert ("ensure_stop", "done", symbol) in actions
    new = folded(events_of(journal)).sym[symbol].stop_id
    resting = {o["clientAlgoId"] for o in sim.venue.open_orders(None, algo=True)}
    assert new != lost and new in resting
