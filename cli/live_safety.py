"""The live loop's safety shell (runbook): what the core decided, acted on outside the core.

- `SafetyWatch` remembers a kill-switch trip (the loop stops, exits non-zero) and a
  `switch_testnet` request (the daily-drawdown policy with AUTO_TESTNET_ON_DD).
- `safe_restart`: a restart with SAFE_RESTART=true records `ResumeRequested(reason=
  "safe_restart")`, which lifts the halt-all of a kill-switch trip and clears the
  error window; with false the bot restarts halted (stops kept, no entries).
- `live_orders_left` verifies, after the switch, which of our orders still rest at the
  live venue (only reduce-only stops/take-profits may: they protect open positions).
- `live_alerts` feeds every new event to the Slack alert rules (kill switch,
  AUTO_TESTNET_ON_DD, fatal errors); the webhook URL never leaves the notifier.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import msgspec

from journal.events import EmergencyAction, Event, KillSwitchTripped, ResumeRequested


class SafetyWatch:
    """Observer: a kill-switch trip or a testnet switch request ends the current session."""

    def __init__(self, switch_ends_session: bool = True) -> None:
        self.trip: KillSwitchTripped | None = None
        self.switch: EmergencyAction | None = None
        self.switch_ends_session = switch_ends_session  # a testnet session has nowhere to switch to

    def __call__(self, event: Event) -> None:
        if isinstance(event, KillSwitchTripped) and self.trip is None:
            self.trip = event
        elif (isinstance(event, EmergencyAction) and event.action == "switch_testnet" and self.switch is None
              and self.switch_ends_session):
            self.switch = event

    @property
    def stop_session(self) -> bool:
        return self.trip is not None or self.switch is not None


def safe_restart(runtime, enabled: bool, ts: int) -> bool:
    """Clear the kill switch's halt and error counters on a restart when SAFE_RESTART is on."""
    state = runtime.loop.state
    if not (runtime.restarted and enabled and (state.halted_all or state.error_ts)):
        return False
    runtime.loop.process([ResumeRequested(ts=ts, symbol=None, reason="safe_restart")])
    return True


def secure_stops(loop, exchange, symbols: Sequence[str], journal_dir, ts: int) -> bool:
    """Before a kill-switch exit: one reconciliation pass, so a stop whose intent is durable but never
    reached the venue (its send met the error burst) is sent now, not at the next start. False when the
    venue could not be reached (the next start reconciles again)."""
    from cli.reconcile import Intents, reconcile
    from exchange.binance_errors import VenueError
    from journal.reader import read_events

    loop.flush(durable=True)
    intents = Intents()
    for event in read_events(journal_dir):
        intents.observe(event)
    try:
        reconcile(loop, exchange, symbols, intents, ts)
    except VenueError:
        return False
    return True


def live_orders_left(exchange, symbols: Sequence[str], prefix: str | None) -> dict[str, int]:
    """Our open orders at the venue: all of them, and those that could add exposure (not reduce-only)."""
    ours = [o for symbol in symbols for o in exchange.open_orders(symbol)
            if prefix is None or o.client_id.startswith(prefix)]
    return {"open": len(ours), "exposing": sum(1 for o in ours if not o.reduce_only)}


def testnet_config(config):
    """The same settings against the testnet venue (env BINANCE_TESTNET_BASE_URL / _KEY / _SECRET,
    else the live keys and ccxt's own testnet endpoint)."""
    env = os.environ
    return msgspec.structs.replace(
        config, testnet=True, auto_testnet_on_dd=False,
        binance_base_url=env.get("BINANCE_TESTNET_BASE_URL", ""),
        binance_key=env.get("BINANCE_TESTNET_KEY", config.binance_key),
        binance_secret=env.get("BINANCE_TESTNET_SECRET", config.binance_secret))


def live_alerts(config, now_ms: Callable[[], int]):
    """The Slack alert rules of a live session, with the config's OBSERVABILITY knobs: the loop feeds it
    every new event and notes a heartbeat each poll; the caller starts its tick thread (the 12 h heartbeat
    and the 18 h missing-heartbeat alarm run there, so they fire even when the loop is stuck)."""
    from cli.alert_scheduler import scheduler_from_config
    from cli.config_schema import observability_of

    return scheduler_from_config(observability_of(config), now_ms, config.slack_webhook_url or None)
