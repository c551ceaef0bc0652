"""Emergency trigger at restart: reconciliation found a position without a stop at the venue.

The venue's view (`ReconcileObserved`: positions and open orders, plus what the shell is about to
re-send) decides "naked"; the journal's vanished stop is forgotten (canceled unless the venue already
ended it) and the configured policy runs for those symbols (machine.emergency).
"""
from __future__ import annotations

from journal import events as ev
from machine.emergency import action_event, apply_policy
from machine.emit import Out, close_side
from machine.params import Params
from machine.records import replace
from machine.state import EMPTY_SYM, State


def _covered_at_venue(symbol: str, side: str, seen: ev.ReconcileObserved, state: State) -> bool:
    """A reduce-only stop for the position is open at the venue, or is being (re)sent by reconciliation."""
    stop_side = close_side(side)
    for order in seen.open_orders:
        if order.get("symbol") == symbol and order.get("order_kind") == "stop_market" \
                and order.get("side") == stop_side and order.get("reduce_only"):
            return True
    for act in seen.actions:
        rec = state.orders.get(act.get("client_id", ""))
        if act.get("action") == "send" and rec is not None and rec.purpose == "stop" and rec.symbol == symbol:
            return True
    return False


def decide_reconcile(state: State, e: ev.ReconcileObserved, p: Params) -> list[ev.Event]:
    """Record the reconciliation (`reconciled`: every difference found and what was done), then, for a
    position at the venue without a stop there, the policy for those symbols."""
    out: list[ev.Event] = [ev.Reconciled(ts=e.ts, differences=list(e.differences), actions=list(e.actions))]
    naked = []
    for position in e.positions:
        symbol, side = position.get("symbol"), position.get("side")
        if symbol and side and float(position.get("qty") or 0) > 0 and not _covered_at_venue(symbol, side, e, state):
            naked.append(symbol)
    if not naked:
        return out
    emit = Out(state, out)
    unknown = [s for s in naked if state.sym.get(s, EMPTY_SYM).pos is None]
    for symbol in unknown:  # a venue position the journal never opened: nothing the core can size a stop from
        emit.add(action_event(e.ts, p.emergency_policy, "ensure_stop", "failed", "missing_handler", symbol,
                              "reconcile_unprotected"))
    known = tuple(s for s in sorted(naked) if s not in unknown)
    if known:
        reported = {act.get("client_id") for act in e.actions}  # ended at the venue: its answer follows
        for symbol in known:  # the journal's stop is gone at the venue: forget it so protect places a new one
            stop_id = state.sym[symbol].stop_id
            if stop_id not in reported:
                emit.cancel(e.ts, symbol, stop_id, "reconcile_missing")
        replaced = _without_stops(state, known)
        emit_after = Out(replaced, out)
        emit_after.counter = emit.counter
        apply_policy(replaced, e.ts, "reconcile_unprotected", p, emit_after, symbols=known)
    return out


def _without_stops(state: State, symbols: tuple[str, ...]) -> State:
    syms = state.sym.copy()
    for symbol in symbols:
        syms[symbol] = replace(syms[symbol], stop_id=None)
    view = state.copy()
    view.sym = syms
    return view
