"""Folding our order flow: submitted intents, cancel requests, rejections and cancels.

Each order occupies a slot of its symbol (entry, stop, take-profits, pyramid, exit) until
it ends; an entry that ends unfilled sends the symbol back to flat, a failed exit back to
its position phase. The latest ended order is kept for `decide` (`last_ended`).
"""
from __future__ import annotations

from typing import Final

from journal import events as ev
from machine.records import replace
from machine.state import EMPTY_SYM, OrderRec, State, Sym, transition

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_OrderCancelRequested: Final = ev.OrderCancelRequested
_OrderCanceled: Final = ev.OrderCanceled
_OrderRejected: Final = ev.OrderRejected
_OrderSubmitted: Final = ev.OrderSubmitted


def _submitted(state: State, e: ev.OrderSubmitted) -> State:
    state.orders[e.client_id] = OrderRec(e.symbol, e.purpose, e.side, e.qty)
    sym = state.sym.get(e.symbol, EMPTY_SYM).copy()  # a fresh value, filled in before anyone sees it
    purpose = e.purpose
    if purpose == "entry":
        sym.entry_id = e.client_id
        sym = transition(sym, "submit_entry")
    elif purpose == "stop":
        sym.stop_id = e.client_id
    elif purpose == "take_profit":
        sym.tp_ids = sym.tp_ids + (e.client_id,)
    elif purpose == "pyramid":
        sym.pyr_id = e.client_id
    elif purpose in ("manual_close", "emergency", "exit"):
        sym.exit_id = e.client_id
    state.sym[e.symbol] = sym
    state.counter += 1
    return state


def forget_order(sym: Sym, client_id: str) -> Sym:
    """Drop a finished order from the symbol's slots."""
    if client_id not in (sym.entry_id, sym.stop_id, sym.pyr_id, sym.exit_id) and client_id not in sym.tp_ids:
        return sym
    sym = sym.copy()  # a fresh value, filled in before anyone sees it
    if sym.entry_id == client_id:
        sym.entry_id = None
    if sym.stop_id == client_id:
        sym.stop_id = None
    if sym.pyr_id == client_id:
        sym.pyr_id = None
    if sym.exit_id == client_id:
        sym.exit_id = None
    if client_id in sym.tp_ids:
        sym.tp_ids = tuple(t for t in sym.tp_ids if t != client_id)
    return sym


def _cancel_requested(state: State, e: ev.OrderCancelRequested) -> State:
    rec = state.orders.get(e.client_id)
    if rec is None:
        return state
    state.orders[e.client_id] = replace(rec, cancel_requested=True)
    state.sym[e.symbol] = forget_order(state.sym.get(e.symbol, EMPTY_SYM), e.client_id)
    return state


def _order_ended(state: State, client_id: str, symbol: str) -> State:
    """A rejected or canceled order: drop it; an entry that never filled sends the symbol back to flat."""
    rec = state.orders.get(client_id)
    sym = state.sym.get(symbol, EMPTY_SYM)
    if rec is not None:
        del state.orders[client_id]
    was_entry = sym.entry_id == client_id
    was_exit = sym.exit_id == client_id
    sym = forget_order(sym, client_id)
    if was_entry and sym.pos is None:
        sym = transition(sym, "entry_failed")
    elif was_exit and sym.pos is not None and sym.phase == "exiting":
        trigger = "exit_failed_pyramided" if sym.pos.adds else f"exit_failed_{sym.pos.side}"
        sym = transition(sym, trigger)
    state.sym[symbol] = sym
    state.last_ended_id, state.last_ended = client_id, rec
    return state


def _rejected(state: State, e: ev.OrderRejected) -> State:
    return _order_ended(state, e.client_id, e.symbol)


def _canceled(state: State, e: ev.OrderCanceled) -> State:
    return _order_ended(state, e.client_id, e.symbol)


ORDER_EVOLVERS = {
    _OrderSubmitted: _submitted,
    _OrderCancelRequested: _cancel_requested,
    _OrderRejected: _rejected,
    _OrderCanceled: _canceled,
}
