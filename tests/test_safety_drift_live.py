"""KILL_SWITCH_MAX_DRIFT_MS end to end: the sim's clock runs 3 s ahead (`clock_skew_ms=3000`). With the knob
at 500 ms every clock check records a `time_drift` error and two of them trip the kill switch (exit 3);
with the knob at 10 s the same skew is tolerated and the bot keeps trading until SIGTERM (exit 0)."""
from __future__ import annotations

import pytest

from conftest_lead import FIXTURES
from conftest_safety import KEY, SECRET, events_of, live_env, start_bot, stop_bot, wait_for
from exchange.sim.boot import build_server
from journal.events import CandleClosed, ClockObserved, ErrorObserved, KillSwitchTripped


@pytest.mark.parametrize("max_drift_ms, trips", [(500, True), (10_000, False)])
def test_clock_drift_beyond_the_knob_trips_the_kill_switch(tmp_path, max_drift_ms, trips):
    sim = build_server(FIXTURES, key=KEY, secret=SECRET, speed=0.0, retry_after_s=0,
                       faults="clock_skew_ms=3000").start()
    journal = tmp_path / "journal"
    env = live_env(sim.url, KILL_SWITCH_MAX_DRIFT_MS=str(max_drift_ms), KILL_SWITCH_MAX_ERRORS="2")
    proc = start_bot(journal, env, tmp_path / "bot.log", tmp_path)
    try:
        wait_for(lambda: proc.poll() is not None or sum(isinstance(e, ClockObserved) for e in events_of(journal)) >= 3,
                 what="three clock checks")
        rc, _ = stop_bot(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.stop()
    events = events_of(journal)
    drift = [e for e in events if isinstance(e, ClockObserved)]
    assert drift and all(abs(e.drift_ms) > 2000 for e in drift)
    errors = [e for e in events if isinstance(e, ErrorObserved) and e.reason == "time_drift"]
    tripped = [e for e in events if isinstance(e, KillSwitchTripped)]
    assert any(isinstance(e, CandleClosed) for e in events)
    if trips:
        assert rc == 3 and len(errors) >= 2 and tripped and set(tripped[0].error_reasons) == {"time_drift"}
    else:
        assert rc == 0 and not errors and not tripped
