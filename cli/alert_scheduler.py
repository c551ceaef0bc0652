"""Alert rules over journal events and an injected clock (the seed's Slack scheduler).

The live loop feeds each newly recorded event (`feed`) and marks its heartbeat
(`note_loop_heartbeat`); `tick` runs the time-based rules and is driven by a daemon
thread (`start_thread`) or by the loop itself. All times come from `now_ms`, so tests
drive every rule with a fake clock. Every alert goes through the dedupe store
(`alert_cooldown_sec`), which is a JSON file that survives restarts.
"""
from __future__ import annotations

import os
import threading
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from cli.alerts import DedupeStore, SlackNotifier
from cli.config_schema import ObservabilityConfig
from cli.logs import env_flag, get_logger
from journal.errors import BadInput
from journal.events import (
    ClockObserved,
    DailyAnchorReset,
    EmergencyAction,
    ErrorObserved,
    ErrorRaised,
    Event,
    KillSwitchTripped,
    OrderFilled,
    OrderRejected,
    PositionClosed,
    SignalDetected,
)

log = get_logger("alerts")
FATAL_ERROR_REASONS = frozenset({"auth"})


def load_observability(raw: dict[str, Any] | None, environ: dict[str, str] | None = None) -> ObservabilityConfig:
    """Validate the OBSERVABILITY dict; env DAILY_REPORT_ENABLED is the default the JSON key overrides."""
    data = dict(raw or {})
    data.setdefault("daily_report_enabled", env_flag("DAILY_REPORT_ENABLED", False, environ))
    try:
        return msgspec.convert(data, ObservabilityConfig)
    except msgspec.ValidationError as exc:
        raise BadInput(f"config: OBSERVABILITY: {exc}") from None


def _day(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


class AlertScheduler:
    """The seed's alert list as rules over fed events plus clock ticks."""

    def __init__(self, notifier: SlackNotifier, now_ms: Callable[[], int], config: ObservabilityConfig,
                 store: DedupeStore | None = None) -> None:
        self.notifier, self.now_ms, self.config = notifier, now_ms, config
        self.store = store or DedupeStore(config.dedupe_store)
        self._lock = threading.Lock()
        self._started_ms = now_ms()
        self._loop_heartbeat_ms = self._started_ms
        self._drift_since_ms: int | None = None
        self._errors: deque[tuple[int, str]] = deque()
        self._signals: deque[int] = deque()
        self._fills: deque[int] = deque()
        self._anchor: tuple[str, float] | None = None
        self._day_pnls: tuple[str, list[float]] = ("", [])
        self._outbox: list[str] = []

    # ------------------------------------------------------------------ inputs
    def note_loop_heartbeat(self) -> None:
        with self._lock:
            self._loop_heartbeat_ms = self.now_ms()

    def feed(self, event: Event, alerting: bool = True) -> None:
        """One newly recorded event. alerting=False primes daily state during a restart replay."""
        with self._lock:
            now = self.now_ms()
            match event:
                case DailyAnchorReset(day=day, equity=equity):
                    self._anchor = (day, equity)
                case PositionClosed():
                    self._on_exit(event, alerting)
            if alerting:
                self._rules(event, now)
        self._send_outbox()

    def tick(self) -> None:
        """Time-based rules: the 12h heartbeat and the 18h missing-heartbeat alarm."""
        with self._lock:
            now = self.now_ms()
            silent_ms = now - self._loop_heartbeat_ms
            if silent_ms >= self.config.heartbeat_missing_sec * 1000:
                self._alert("heartbeat_missing",
                            f"🚨 Missing heartbeat: no loop heartbeat for {silent_ms / 3_600_000:.1f}h. "
                            "Check the bot process and `bot health`.")
            last = self.store.last_sent("heartbeat")
            since = now / 1000 - last if last is not None else (now - self._started_ms) / 1000
            if since >= self.config.heartbeat_interval_sec and silent_ms < self.config.heartbeat_missing_sec * 1000:
                uptime_h = (now - self._started_ms) / 3_600_000
                self._alert("heartbeat", f"💓 Heartbeat: bot alive, up {uptime_h:.1f}h.")
        self._send_outbox()

    def fatal(self, text: str, key: str = "fatal") -> bool:
        """Startup/runtime fatal errors from the shell (auth or sync failures)."""
        with self._lock:
            queued = self._alert(key, f"❌ Fatal: {text}")
        return queued and all(self._send_outbox())

    # ------------------------------------------------------------------ rules
    def _rules(self, event: Event, now: int) -> None:
        match event:
            case ClockObserved(drift_ms=drift):
                self._on_drift(drift, now)
            case ErrorObserved(reason=reason) | OrderRejected(reason=reason):
                self._on_error(reason, now)
                if isinstance(event, ErrorObserved) and reason in FATAL_ERROR_REASONS:
                    self._alert(f"fatal:{reason}", f"❌ Fatal: {reason} error from {event.source}. Check API keys.")
            case SignalDetected():
                self._signals.append(now)
                self._on_no_trade(now)
            case OrderFilled():
                self._fills.append(now)
            case KillSwitchTripped(reason=reason):
                log.error("kill switch tripped", extra={"event": "kill_switch_trigger", "reason": reason})
                self._alert(f"kill_switch:{reason}",
                            f"🛑 kill-switch activated ({reason}): {len(event.error_reasons)} errors in "
                            f"{event.window_sec}s. Protective stops stay; investigate, restart with SAFE_RESTART=true.")
            case EmergencyAction(action="block_entries", trigger="daily_dd", policy=policy):
                self._alert("daily_dd", f"⚠️ Daily drawdown limit hit: policy {policy} ran (entries blocked for the "
                                        "rest of the UTC day). Check positions and stops.")
            case EmergencyAction(action="switch_testnet", outcome=outcome):
                self._alert("auto_testnet_on_dd",
                            f"⚠️ AUTO_TESTNET_ON_DD: daily drawdown limit hit, switch to testnet {outcome}. "
                            "Verify no live orders remain.")
            case EmergencyAction(outcome="failed", action=action, reason=reason, symbol=symbol):
                hint = ("the position may have no stop: check the venue, close or adopt it by hand"
                        if action in ("ensure_stop", "fallback_stop") else "the position is still open")
                self._alert(f"emergency_failed:{action}:{symbol}",
                            f"🚨 Emergency {action} failed on {symbol or 'all'} ({reason}): {hint}.")
            case ErrorRaised(symbol=symbol, reason="illegal_transition", detail=detail):
                self._alert(f"fatal:core:{symbol}",
                            f"❌ Fatal: core error on {symbol or 'all'}: illegal_transition ({detail}); symbol halted.")
            case ErrorRaised(symbol=symbol, reason="late_fill", detail=detail):
                self._alert(f"late_fill:{symbol}", f"⚠️ Late fill on {symbol}: {detail}. Protected and closed at "
                                                   "market; trading goes on.")
            case ErrorRaised(symbol=symbol, reason="exit_failed", detail=detail):
                self._alert(f"exit_failed:{symbol}", f"⚠️ Exit failed on {symbol}: {detail}.")

    def _on_drift(self, drift_ms: int, now: int) -> None:
        if abs(drift_ms) <= self.config.drift_threshold_ms:
            self._drift_since_ms = None
            return
        if self._drift_since_ms is None:
            self._drift_since_ms = now
        if now - self._drift_since_ms >= self.config.drift_sustain_sec * 1000:
            self._alert("clock_drift", f"⏱️ Clock drift: {drift_ms:+d}ms (>{self.config.drift_threshold_ms:.0f}). "
                                       "Check NTP / exchange time.")

    def _on_error(self, reason: str, now: int) -> None:
        window = self.config.error_burst_window_sec * 1000
        self._errors.append((now, reason))
        while self._errors and now - self._errors[0][0] > window:
            self._errors.popleft()
        if len(self._errors) >= self.config.error_burst_count:
            top = ", ".join(r for r, _ in Counter(r for _, r in self._errors).most_common(3))
            minutes = self.config.error_burst_window_sec / 60
            self._alert("error_burst", f"🚨 Error burst: {len(self._errors)} errors/{minutes:.0f}m ({top}).")

    def _on_no_trade(self, now: int) -> None:
        window = self.config.no_trade_window_sec * 1000
        for times in (self._signals, self._fills):
            while times and now - times[0] > window:
                times.popleft()
        if len(self._signals) >= self.config.no_trade_signal_count and not self._fills:
            hours = self.config.no_trade_window_sec / 3600
            self._alert("no_trade", f"⚠️ Signals: {len(self._signals)} in {hours:.0f}h but 0 trades. "
                                    "Check filters/routing.")

    def _on_exit(self, closed: PositionClosed, alerting: bool) -> None:
        day = _day(closed.ts)
        if self._day_pnls[0] != day:
            self._day_pnls = (day, [])
        self._day_pnls[1].append(closed.pnl)
        if alerting and self.config.daily_report_enabled:
            summary = self.daily_summary()
            if summary is None:
                log.warning("daily summary unavailable", extra={"event": "daily_summary_missing", "day": day})
            else:
                self._alert(f"daily_summary:{day}:{len(self._day_pnls[1])}", summary)

    def daily_summary(self) -> str | None:
        """Trades, wins/losses, win rate, PF and gross % of the anchor for the current UTC day."""
        day, pnls = self._day_pnls
        if not pnls:
            return None
        wins = [p for p in pnls if p > 0]
        losses = [p for p in pnls if p <= 0]
        gross_loss = -sum(losses)
        pf = f"{sum(wins) / gross_loss:.2f}" if gross_loss > 0 else "inf"
        anchor = self._anchor[1] if self._anchor and self._anchor[0] == day and self._anchor[1] > 0 else None
        gross = f"{100 * sum(pnls) / anchor:+.2f}%" if anchor else f"{sum(pnls):+.2f} USDT"
        return (f"📊 Daily summary {day}: {len(pnls)} trades, {len(wins)}W/{len(losses)}L, "
                f"win rate {100 * len(wins) / len(pnls):.1f}%, PF {pf}, gross {gross}")

    def _alert(self, key: str, text: str) -> bool:
        """Dedupe and queue (under the lock); _send_outbox posts outside it so Slack never blocks the loop's feed."""
        if not self.store.allow(key, self.now_ms() / 1000, self.config.alert_cooldown_sec):
            return False
        log.warning(text, extra={"event": "alert", "key": key})
        self._outbox.append(text)
        return True

    def _send_outbox(self) -> list[bool]:
        with self._lock:
            texts, self._outbox = self._outbox, []
        return [self.notifier.send(text) for text in texts]

    # ------------------------------------------------------------------ daemon
    def run_until(self, stop: threading.Event) -> None:
        while not stop.wait(self.config.scheduler_interval_sec):
            try:
                self.tick()
            except Exception:  # the alert thread must never die silently
                log.exception("alert scheduler tick failed", extra={"event": "alert_tick_failed"})

    def start_thread(self) -> threading.Event:
        """Run `tick` every scheduler_interval_sec on a daemon thread; set the returned Event to stop it."""
        stop = threading.Event()
        threading.Thread(target=self.run_until, args=(stop,), name="alert-scheduler", daemon=True).start()
        return stop


def scheduler_from_config(observability: dict[str, Any] | ObservabilityConfig | None, now_ms: Callable[[], int],
                          webhook_url: str | None = None) -> AlertScheduler:
    """Wire a scheduler from the OBSERVABILITY knobs (a raw dict is validated here); the webhook is config
    `slack_webhook_url`, else env SLACK_WEBHOOK_URL."""
    config = observability if isinstance(observability, ObservabilityConfig) else load_observability(observability)
    notifier = SlackNotifier(webhook_url) if webhook_url else SlackNotifier.from_env()
    return AlertScheduler(notifier, now_ms, config, DedupeStore(os.fspath(config.dedupe_store)))
