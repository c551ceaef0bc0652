"""The alert rules, driven by a fake clock and fed journal events, posting to a local Slack stand-in."""
import io

import pytest
from conftest_ops import FakeClock, FakeSlack

from cli.alert_scheduler import AlertScheduler, load_observability
from cli.alerts import DedupeStore, SlackNotifier
from cli.logs import configure_logging
from journal.errors import BadInput
from journal.events import (
    ClockObserved,
    DailyAnchorReset,
    EmergencyAction,
    ErrorObserved,
    ErrorRaised,
    KillSwitchTripped,
    OrderFilled,
    PositionClosed,
    SignalDetected,
)


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


def make(slack, tmp_path, clock, **knobs):
    config = load_observability(knobs, environ={})
    return AlertScheduler(SlackNotifier(slack.url), clock.now_ms, config, DedupeStore(tmp_path / "dedupe.json"))


def signal(ts=0):
    return SignalDetected(ts=ts, symbol="BTC/USDT", side="long", close=1, channel_high=1, channel_low=0, atr=1)


def closed(pnl, ts=1_700_000_000_000):
    return PositionClosed(ts=ts, symbol="BTC/USDT", side="long", trade_id="t", qty=1, entry_ts=0,
                          entry_price=100, exit_price=100 + pnl, pnl=pnl, fees=0, reason="stop")


def test_twelve_hour_heartbeat_then_missing_heartbeat_alarm_at_eighteen(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    clock.advance(11 * 3600)
    sched.tick()
    assert slack.texts == []
    clock.advance(3600)
    sched.tick()
    assert len(slack.texts) == 1 and "Heartbeat" in slack.texts[0]
    clock.advance(7 * 3600)  # 19h without a loop heartbeat
    sched.tick()
    assert "Missing heartbeat" in slack.texts[-1]


def test_loop_heartbeat_keeps_the_missing_alarm_quiet(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    for _ in range(20):
        clock.advance(3600)
        sched.note_loop_heartbeat()
        sched.tick()
    assert not any("Missing" in t for t in slack.texts)
    assert sum("Heartbeat" in t for t in slack.texts) == 1


def test_clock_drift_alerts_only_when_sustained(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    sched.feed(ClockObserved(ts=0, drift_ms=7421))
    clock.advance(60)
    sched.feed(ClockObserved(ts=0, drift_ms=200))  # back in range: the streak resets
    clock.advance(60)
    sched.feed(ClockObserved(ts=0, drift_ms=7421))
    clock.advance(179)
    sched.feed(ClockObserved(ts=0, drift_ms=7421))
    assert slack.texts == []
    clock.advance(1)
    sched.feed(ClockObserved(ts=0, drift_ms=7421))
    assert slack.texts == ["⏱️ Clock drift: +7421ms (>5000). Check NTP / exchange time."]


def test_error_burst_ten_in_five_minutes_is_one_deduped_alert(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    for _ in range(9):
        sched.feed(ErrorObserved(ts=0, reason="nonce"))
        clock.advance(20)
    assert slack.texts == []
    for _ in range(5):
        sched.feed(ErrorObserved(ts=0, reason="nonce"))
    assert slack.texts == ["🚨 Error burst: 10 errors/5m (nonce)."]


def test_errors_spread_beyond_the_window_do_not_burst(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    for _ in range(30):
        sched.feed(ErrorObserved(ts=0, reason="network"))
        clock.advance(40)
    assert slack.texts == []


def test_no_trade_anomaly_needs_five_signals_and_zero_fills(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    for _ in range(4):
        sched.feed(signal())
        clock.advance(600)
    sched.feed(OrderFilled(ts=0, client_id="c", symbol="BTC/USDT", fill_id="f", side="buy", qty=1, price=1))
    sched.feed(signal())
    assert slack.texts == []
    clock.advance(3 * 3600)  # the fill and old signals leave the 2h window
    for _ in range(5):
        sched.feed(signal())
    assert slack.texts == ["⚠️ Signals: 5 in 2h but 0 trades. Check filters/routing."]


def test_kill_switch_and_auto_testnet_and_fatal_auth(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    # the core lists the errors' reasons (error_seqs stays empty: the seqs are the shell's)
    sched.feed(KillSwitchTripped(ts=0, reason="error_burst", error_reasons=("nonce",) * 5, window_sec=300))
    sched.feed(EmergencyAction(ts=0, policy="protect_only", action="switch_testnet", outcome="done"))
    sched.feed(ErrorObserved(ts=0, reason="auth", source="exchange"))
    assert "kill-switch activated (error_burst): 5 errors in 300s" in slack.texts[0]
    assert slack.texts[1].startswith("⚠️ AUTO_TESTNET_ON_DD")
    assert slack.texts[2].startswith("❌ Fatal: auth")


def test_dedupe_survives_a_restart_and_expires_after_cooldown(slack, tmp_path):
    clock = FakeClock()
    first = make(slack, tmp_path, clock)
    first.feed(KillSwitchTripped(ts=0, reason="time_drift"))
    restarted = make(slack, tmp_path, clock)  # same dedupe file, new process
    clock.advance(599)
    restarted.feed(KillSwitchTripped(ts=0, reason="time_drift"))
    assert len(slack.texts) == 1
    clock.advance(1)
    restarted.feed(KillSwitchTripped(ts=0, reason="time_drift"))
    assert len(slack.texts) == 2


def test_daily_summary_after_each_exit_when_enabled(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock, daily_report_enabled=True)
    sched.feed(DailyAnchorReset(ts=1_700_000_000_000, day="2023-11-14", equity=10_000))
    sched.feed(closed(200))
    sched.feed(closed(-100))
    assert slack.texts == [
        "📊 Daily summary 2023-11-14: 1 trades, 1W/0L, win rate 100.0%, PF inf, gross +2.00%",
        "📊 Daily summary 2023-11-14: 2 trades, 1W/1L, win rate 50.0%, PF 2.00, gross +1.00%",
    ]


def test_daily_summary_off_by_default(slack, tmp_path):
    sched = make(slack, tmp_path, FakeClock())
    sched.feed(closed(200))
    assert slack.texts == []


def test_webhook_url_never_reaches_the_logs(slack, tmp_path):
    stream = io.StringIO()
    configure_logging("DEBUG", stream, secrets=[])
    sched = make(slack, tmp_path, FakeClock())
    sched.feed(KillSwitchTripped(ts=0, reason="error_burst"))
    sched.feed(KillSwitchTripped(ts=0, reason="error_burst"))
    logs = stream.getvalue()
    assert "kill_switch_trigger" in logs and "alert_deduped" in logs
    assert "SECRETTOKEN123" not in logs and slack.url not in logs


def test_unknown_observability_knob_is_bad_input():
    with pytest.raises(BadInput, match="OBSERVABILITY"):
        load_observability({"alert_cooldown_seconds": 5}, environ={})


def test_daily_report_env_flag_is_the_default():
    assert load_observability({}, environ={"DAILY_REPORT_ENABLED": "true"}).daily_report_enabled is True
    assert load_observability({"daily_report_enabled": False}, environ={"DAILY_REPORT_ENABLED": "1"}).daily_report_enabled is False


def test_daemon_thread_ticks_until_stopped(slack, tmp_path):
    import time

    clock = FakeClock()
    sched = make(slack, tmp_path, clock, scheduler_interval_sec=0.01)
    clock.advance(12 * 3600)
    stop = sched.start_thread()
    try:
        deadline = time.monotonic() + 10
        while not slack.texts and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
    assert slack.texts and "Heartbeat" in slack.texts[0]


def test_fatal_from_the_shell_is_sent_once_per_cooldown(slack, tmp_path):
    sched = make(slack, tmp_path, FakeClock())
    assert sched.fatal("auth failed at startup") is True
    assert sched.fatal("auth failed at startup") is False
    assert slack.texts == ["❌ Fatal: auth failed at startup"]


def test_scheduler_from_config_wires_webhook_knobs_and_store(slack, tmp_path):
    from cli.alert_scheduler import scheduler_from_config

    clock = FakeClock()
    store = tmp_path / "store.json"
    sched = scheduler_from_config({"alert_cooldown_sec": 5, "dedupe_store": str(store)}, clock.now_ms,
                                  webhook_url=slack.url)
    sched.feed(KillSwitchTripped(ts=0, reason="operator"))
    clock.advance(6)
    sched.feed(KillSwitchTripped(ts=0, reason="operator"))
    assert len(slack.texts) == 2 and store.exists()


def test_core_errors_alert_by_what_they_mean(slack, tmp_path):
    """Only an illegal transition (the symbol halts) is fatal; a late fill or a failed exit is a warning;
    an operator's mistaken request (closing a flat symbol) or a stale candle is not an alert."""
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    sched.feed(ErrorRaised(ts=0, symbol="ETH/USDT", reason="late_fill", detail="fill F of P (0.083)"))
    sched.feed(ErrorRaised(ts=0, symbol="BTC/USDT", reason="nothing_to_close", detail="manual close while flat"))
    sched.feed(ErrorRaised(ts=0, symbol="BTC/USDT", reason="exit_failed", detail="manual_close order M ended"))
    sched.feed(ErrorRaised(ts=0, symbol="BTC/USDT", reason="illegal_transition", detail="'x' is not allowed"))
    assert len(slack.texts) == 3
    assert slack.texts[0].startswith("⚠️ Late fill on ETH/USDT") and slack.texts[1].startswith("⚠️ Exit failed on")
    assert slack.texts[2].startswith("❌ Fatal: core error on BTC/USDT")
    assert "symbol halted" in slack.texts[2] and "trading goes on" in slack.texts[0]


def test_a_failed_emergency_action_is_an_alert_that_says_what_to_do(slack, tmp_path):
    """A venue position the journal never opened cannot be protected by the core (`ensure_stop` failed,
    `missing_handler`): the operator must hear of it. Done or skipped actions are not alerted."""
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    sched.feed(EmergencyAction(ts=0, policy="protect_only", action="ensure_stop", outcome="done", reason="ok",
                               symbol="BTC/USDT", trigger="reconcile"))
    sched.feed(EmergencyAction(ts=0, policy="protect_only", action="ensure_stop", outcome="failed",
                               reason="missing_handler", symbol="ETH/USDT", trigger="reconcile"))
    sched.feed(EmergencyAction(ts=0, policy="flatten", action="close", outcome="failed", reason="order_error",
                               symbol="BTC/USDT", trigger="close_ended"))
    assert len(slack.texts) == 2
    assert slack.texts[0].startswith("🚨 Emergency ensure_stop failed on ETH/USDT (missing_handler)")
    assert "close or adopt it by hand" in slack.texts[0] and "still open" in slack.texts[1]


def test_a_daily_drawdown_breach_is_alerted_whatever_the_policy(slack, tmp_path):
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    sched.feed(EmergencyAction(ts=0, policy="protect_only", action="block_entries", outcome="done", reason="ok",
                               trigger="daily_dd"))
    sched.feed(EmergencyAction(ts=0, policy="protect_only", action="block_entries", outcome="done", reason="ok",
                               trigger="kill_switch"))  # the kill switch has its own alert
    assert len(slack.texts) == 1 and slack.texts[0].startswith("⚠️ Daily drawdown limit hit: policy protect_only")


def test_a_dedupe_reset_while_the_bot_runs_takes_effect(slack, tmp_path):
    # `bot health --reset-dedupe` rewrites the file under a running scheduler: the next alert is not muted.
    clock = FakeClock()
    sched = make(slack, tmp_path, clock)
    sched.fatal("venue unreachable")
    sched.fatal("venue unreachable")
    assert len(slack.texts) == 1
    DedupeStore(tmp_path / "dedupe.json").reset()
    sched.fatal("venue unreachable")
    assert len(slack.texts) == 2
