"""Decisions on operator requests and error bursts.

Operator requests are checked before they touch the lifecycle: closing a flat symbol
or one already exiting is answered with ErrorRaised (no state change, no halt), since
that is a mistaken request, not a broken invariant.
"""
from __future__ import annotations

from typing import Final

from journal import events as ev
from machine import emergency
from machine.emit import Out, close_side
from machine.params import Params
from machine.decide_bar import DAY_MS, utc_day
from machine.state import EMPTY_SYM, State, equity

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_Halted: Final = ev.Halted
_KillSwitchTripped: Final = ev.KillSwitchTripped


def decide_manual_close(state: State, e: ev.ManualCloseRequested, p: Params) -> list[ev.Event]:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    pos = sym.pos
    if pos is None:
        return [ev.ErrorRaised(ts=e.ts, symbol=e.symbol, reason="nothing_to_close", detail="manual close while flat")]
    if sym.exit_id is not None:
        return [ev.ErrorRaised(ts=e.ts, symbol=e.symbol, reason="already_exiting", detail=sym.exit_id)]
    out: list[ev.Event] = [ev.ManualClose(ts=e.ts, symbol=e.symbol, reason=e.reason)]
    emit = Out(state, out)
    emit.order(e.ts, e.symbol, close_side(pos.side), "market", pos.qty, "manual_close", reduce_only=True)
    for client_id in (sym.stop_id, *sym.tp_ids, sym.pyr_id, sym.entry_id):  # entry: a partial entry's remainder
        emit.cancel(e.ts, e.symbol, client_id, "manual_close")
    return out


def decide_halt(state: State, e: ev.HaltRequested, p: Params) -> list[ev.Event]:
    return [ev.Halted(ts=e.ts, symbol=e.symbol, reason=e.reason)]


def decide_resume(state: State, e: ev.ResumeRequested, p: Params) -> list[ev.Event]:
    return [ev.Resumed(ts=e.ts, symbol=e.symbol, reason=e.reason)]


def decide_protect_only(state: State, e: ev.ProtectOnlyRequested, p: Params) -> list[ev.Event]:
    return emergency.decide_protect_only(state, e, p)


def decide_error(state: State, e: ev.ErrorObserved, p: Params) -> list[ev.Event]:
    """Kill switch: max_errors listed errors within window_sec halt every symbol (stops stay)."""
    if not p.kill_switch_enabled or state.halted_all or len(state.error_ts) < p.kill_switch_max_errors:
        return []
    return [
        _KillSwitchTripped(ts=e.ts, reason="error_burst", error_reasons=state.error_reasons,
                           window_sec=p.kill_switch_window_sec, max_errors=p.kill_switch_max_errors),
        _Halted(ts=e.ts, symbol=None, reason="kill_switch"),
        *emergency.on_kill_switch(state, e, p),
    ]


def decide_anchor_reset(state: State, e: ev.DailyAnchorResetRequested, p: Params) -> list[ev.Event]:
    """Operator re-anchor (runbook `--reset-daily`): today's anchor becomes the current equity,
    which also lifts a daily-loss block until the next loss or UTC day."""
    day = max(e.ts // DAY_MS, state.anchor_day)  # a paper request carries the last bar's open: its day may be past
    return [ev.DailyAnchorReset(ts=e.ts, day=utc_day(day), equity=equity(state))]
