"""Folding lifecycle and safety events: manual/emergency exits, halt/resume,
protect-only, and the error window the kill switch counts."""
from __future__ import annotations

from typing import Final

from journal import events as ev
from machine.records import replace
from machine.state import EMPTY_SYM, State, Sym, transition, with_sym

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_EmergencyAction: Final = ev.EmergencyAction
_ErrorObserved: Final = ev.ErrorObserved
_Halted: Final = ev.Halted
_KillSwitchTripped: Final = ev.KillSwitchTripped
_ManualClose: Final = ev.ManualClose
_ProtectOnlyRequested: Final = ev.ProtectOnlyRequested
_Resumed: Final = ev.Resumed


def _manual_close(state: State, e: ev.ManualClose) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    return with_sym(state, e.symbol, transition(sym, "request_exit"))


def _emergency(state: State, e: ev.EmergencyAction) -> State:
    if e.action == "block_entries":  # daily drawdown blocks entries for that UTC day only
        if e.trigger == "daily_dd":
            state.dd_emergency_day = (e.ts + state.bar_ms) // 86_400_000  # the bar's close day
        else:
            state.protect_only = True
        return state
    if e.action != "close" or e.outcome != "done" or e.symbol is None:
        return state
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    if sym.phase == "exiting":  # a late fill closed while the position is already being closed
        return state
    return with_sym(state, e.symbol, transition(sym, "request_exit"))


def resume_trigger(sym: Sym) -> str:
    if sym.exit_id is not None and sym.pos is not None:
        return "resume_exiting"
    if sym.pos is None:
        return "resume_entering" if sym.entry_id is not None else "resume_flat"
    return "resume_pyramided" if sym.pos.adds else f"resume_{sym.pos.side}"


def _halted(state: State, e: ev.Halted) -> State:
    if e.symbol is None:
        state.halted_all = True
        return state
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    sym = replace(sym, fault="")
    if sym.phase != "halted":
        sym = transition(sym, "halt")
    return with_sym(state, e.symbol, sym)


def _resumed(state: State, e: ev.Resumed) -> State:
    if e.symbol is None:
        for symbol, sym in list(state.sym.items()):
            if sym.phase == "halted":
                state.sym[symbol] = transition(sym, resume_trigger(sym))
        state.halted_all = state.protect_only = False
        state.error_ts, state.error_reasons = (), ()
        return state
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    if sym.phase != "halted":
        return state
    return with_sym(state, e.symbol, transition(sym, resume_trigger(sym)))


def _protect_only(state: State, e: ev.ProtectOnlyRequested) -> State:
    state.protect_only = True
    return state


def _error_observed(state: State, e: ev.ErrorObserved) -> State:
    p = state.params
    if e.reason not in p.kill_switch_reasons:
        return state
    horizon = e.ts - p.kill_switch_window_sec * 1000
    kept = [(t, r) for t, r in zip(state.error_ts, state.error_reasons) if t > horizon]
    kept.append((e.ts, e.reason))
    state.error_ts = tuple(t for t, _ in kept)
    state.error_reasons = tuple(r for _, r in kept)
    return state


def _kill_switch(state: State, e: ev.KillSwitchTripped) -> State:
    state.error_ts, state.error_reasons = (), ()
    return state


OPS_EVOLVERS = {
    _ManualClose: _manual_close,
    _EmergencyAction: _emergency,
    _Halted: _halted,
    _Resumed: _resumed,
    _ProtectOnlyRequested: _protect_only,
    _ErrorObserved: _error_observed,
    _KillSwitchTripped: _kill_switch,
}
