"""The decider: `decide(state, input, params) -> decisions` and `step`, plus re-exports.

`decide` is called with the state *after* the input was folded in (`evolve`), and
returns the decisions in the order the shell must act on them. `step` is the whole
per-input cycle the run loop, backtests and `journal replay` share. Pure: same state
and input give the same decisions, field for field.
"""
from __future__ import annotations

from typing import Final

from journal import events as ev
from machine.decide_bar import decide_candle
from machine.decide_ops import (
    decide_anchor_reset,
    decide_error,
    decide_halt,
    decide_manual_close,
    decide_protect_only,
    decide_resume,
)
from machine import emergency
from machine.emergency_reconcile import decide_reconcile
from machine.decide_orders import decide_fill, decide_order_ended
from machine.evolve import EVOLVERS, evolve, evolve_candle
from machine.params import Params
from machine.state import State, initial_state

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_CandleClosed: Final = ev.CandleClosed
_DailyAnchorResetRequested: Final = ev.DailyAnchorResetRequested
_ErrorObserved: Final = ev.ErrorObserved
_FlattenRequested: Final = ev.FlattenRequested
_HaltRequested: Final = ev.HaltRequested
_ManualCloseRequested: Final = ev.ManualCloseRequested
_OrderCanceled: Final = ev.OrderCanceled
_OrderFilled: Final = ev.OrderFilled
_OrderRejected: Final = ev.OrderRejected
_ProtectOnlyRequested: Final = ev.ProtectOnlyRequested
_ReconcileObserved: Final = ev.ReconcileObserved
_ResumeRequested: Final = ev.ResumeRequested

__all__ = ["State", "initial_state", "evolve", "decide", "step"]


_DECIDERS: Final = {
    _CandleClosed: decide_candle,
    _OrderFilled: decide_fill,
    _OrderRejected: decide_order_ended,
    _OrderCanceled: decide_order_ended,
    _ManualCloseRequested: decide_manual_close,
    _HaltRequested: decide_halt,
    _ResumeRequested: decide_resume,
    _ProtectOnlyRequested: decide_protect_only,
    _ErrorObserved: decide_error,
    _DailyAnchorResetRequested: decide_anchor_reset,
    _ReconcileObserved: decide_reconcile,
    _FlattenRequested: emergency.decide_flatten,
}


def decide(state: State, event: ev.Event, params: Params) -> list[ev.Event]:
    """Decisions for one input event (state already includes it). Non-inputs decide nothing,
    and neither do warm-up candles (history that only primes the indicators)."""
    if type(event) is _CandleClosed and event.warmup:
        return []
    decider = _DECIDERS.get(type(event))
    return [] if decider is None else decider(state, event, params)


def step(state: State, event: ev.Event, params: Params) -> tuple[State, list[ev.Event]]:
    """Evolve the input, decide, and evolve each decision in order (evolve/decide inlined:
    this is the per-bar hot path, so a candle skips the dispatch tables)."""
    kind = type(event)
    if kind is _CandleClosed:
        state = evolve_candle(state, event)
        if event.warmup:
            return state, []
        decisions = decide_candle(state, event, params)
    else:
        handler = EVOLVERS.get(kind)
        if handler is not None:
            state = handler(state, event)
        decider = _DECIDERS.get(kind)
        if decider is None:
            return state, []
        decisions = decider(state, event, params)
    for decision in decisions:
        handler = EVOLVERS.get(type(decision))
        if handler is not None:
            state = handler(state, decision)
    return state, decisions
