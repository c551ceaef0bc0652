"""`bot close SYMBOL --journal DIR [--reason TEXT]`: the seed's scripts/manual_close.

With a `bot live` running on the journal (it holds the single-writer lock) the request
goes through the control channel the bot drains each poll, and this command waits for
the outcome in the journal. Without one, it takes the lock itself, rebuilds the session
the journal belongs to (paper venue state, or the ccxt adapter from config), and lets
the core decide the close like any other input: `manual_close` + cancel of the stops +
a reduce-only market order, whose exit is recorded with exit_reason_code=manual_close.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from cli import control
from cli.apps import bot_app
from cli.clock import RandomIds, WallClock
from journal.errors import BadInput, CheckFailed
from journal.events import (
    ErrorRaised, Event, ManualClose, ManualCloseRequested, PositionClosed, SessionStarted, SignalFiltered,
)
from journal.reader import read_events

POLL_S = 0.2


def journal_session(journal_dir: Path) -> tuple[SessionStarted, int, list[Event]]:
    """The journal's last session, its last event time, and every event (for the status check)."""
    events = list(read_events(journal_dir))
    sessions = [e for e in events if isinstance(e, SessionStarted)]
    if not sessions:
        raise BadInput(f"{journal_dir}: journal has no session to close a position in")
    return sessions[-1], max(e.ts for e in events if not isinstance(e, SessionStarted)) if len(events) > 1 \
        else sessions[-1].ts, events


REFUSALS = {"nothing_to_close": "no open position to close (it closed before the request was handled?)",
            "already_exiting": "its position is already being closed"}
"""What the core answers a close it will not act on (machine/decide_ops.py), as `bot close` says it."""


def refusal(events: list[Event], symbol: str, after: int) -> str | None:
    """The core's answer when it refused our request (looking only at records after `after`)."""
    for event in events[after:]:
        if isinstance(event, ErrorRaised) and event.symbol == symbol and event.reason in REFUSALS:
            return f"{symbol}: {REFUSALS[event.reason]} ({event.reason})"
    return None


def outcome(events: list[Event], symbol: str, after: int) -> str | None:
    """What the core made of our request (looking only at records after `after`)."""
    for event in events[after:]:
        if isinstance(event, PositionClosed) and event.symbol == symbol and event.reason == "manual_close":
            return f"closed {event.side} {event.qty} {symbol} at {event.exit_price} (pnl {event.pnl:+.2f})"
    for event in events[after:]:
        if isinstance(event, ManualClose) and event.symbol == symbol:
            return f"close order for {symbol} submitted; the fill completes the trade (exit_reason_code=manual_close)"
    return None


@bot_app.command("close")
def close_command(
    symbol: str = typer.Argument(..., help="config symbol, e.g. BTC/USDT"),
    journal: Path = typer.Option(..., "--journal", help="the journal of the bot holding the position"),
    reason: str = typer.Option("manual_close", "--reason", help="free text kept with the request"),
    config: Optional[Path] = typer.Option(None, "--config", help="config (keys) when acting on a live journal"),
    wait: float = typer.Option(30.0, "--wait", min=0.0, max=3600.0, help="seconds to wait for a running bot to act"),
) -> None:
    """Close a position (market, reduce-only), cancel its stops, record exit_reason_code=manual_close."""
    symbol = symbol.upper()
    session, last_ts, events = journal_session(journal)
    if symbol not in session.symbols:
        raise BadInput(f"{symbol}: not traded in {journal} (symbols: {', '.join(session.symbols)})")
    holder = control.bot_is_running(journal)
    if holder is not None:
        request = ManualCloseRequested(ts=WallClock().now_ms(), symbol=symbol, reason=reason, requested_by="cli")
        control.submit_request(journal, request)
        print(f"close request for {symbol} handed to the running bot (pid {holder})")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            time.sleep(POLL_S)
            recorded = list(read_events(journal))
            result = outcome(recorded, symbol, len(events))
            if result:
                print(result)
                return
            refused = refusal(recorded, symbol, len(events))
            if refused:
                raise CheckFailed(f"the running bot (pid {holder}) answered: {refused}")
        raise CheckFailed(f"the bot (pid {holder}) has not acted on the close of {symbol} within {wait:.0f}s; "
                          f"the request stays queued in {control.control_dir(journal, 'pending')}")
    # A paper journal is the whole truth: say so before taking the lock, so nothing is recorded. A live one is
    # reconciled with the venue first (a fill the journal missed may be the position), so it goes on.
    if session.mode not in ("live", "testnet") and not holds_position(events, session, symbol):
        raise CheckFailed(f"{symbol}: no open position to close in {journal}")
    print(act_alone(journal, session, symbol, reason, last_ts, config, len(events)))


def holds_position(events: list[Event], session: SessionStarted, symbol: str) -> bool:
    """Whether the journal's folded state holds a position in `symbol` (the restart's own fold)."""
    from cli.restart import params_from_session, rebuild_state

    sym = rebuild_state(events, params_from_session(session)).state.sym.get(symbol)
    return sym is not None and sym.pos is not None


def act_alone(journal: Path, session: SessionStarted, symbol: str, reason: str, last_ts: int,
              config: Path | None, seen: int) -> str:
    """No bot running: take the lock and decide the close through the same loop."""
    from cli.bootstrap import RunSpec, assemble, paper_runtime
    from cli.replay import params_from_session
    from cli.run_options import load_run_config

    params = params_from_session(session)
    spec = RunSpec(mode=session.mode, journal_dir=journal, params=params, symbols=session.symbols,
                   timeframe=session.timeframe, settings={**session.settings, "command": "close"},
                   config_digest=session.config_digest)
    if session.mode in ("live", "testnet"):
        from cli.live_binance import make_exchange

        exchange = make_exchange(load_run_config(config).config)
        now = WallClock().now_ms()
        runtime = assemble(spec, exchange, WallClock(), RandomIds(), durable=True, session_ts=now)
    else:
        now = last_ts  # a paper venue's clock is its candles
        runtime = paper_runtime(spec, session_ts=now)
    try:
        runtime.loop.process([ManualCloseRequested(ts=now, symbol=symbol, reason=reason, requested_by="cli")])
    finally:
        runtime.close()
    events = list(read_events(journal))
    result = outcome(events, symbol, seen)
    if result is None:
        filtered = [e for e in events[seen:] if isinstance(e, SignalFiltered)]
        raise CheckFailed(f"{symbol}: no open position to close in {journal}"
                          + (f" ({filtered[-1].reason})" if filtered else ""))
    return result
