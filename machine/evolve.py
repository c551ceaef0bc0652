"""evolve(state, event) -> state: the pure fold over every event, inputs and decisions.

Dispatch is a dict on the event's type (one lookup per event, cheaper than a long
`match` on the per-bar path). Events the core does not track return the same state.
Lifecycle changes go through `lifecycle.fire`; an illegal trigger never raises here:
the symbol keeps its phase and records `fault`, which `decide` turns into ErrorRaised
+ Halted.
"""
from __future__ import annotations

from msgspec.structs import replace

from journal import events as ev
from machine.fills import apply_fill
from machine.indicators import EMPTY_IND, ind_update
from machine.ids import prefix_from_run_id
from machine.risk import daily_loss_hit
from machine.state import EMPTY_SYM, OrderRec, State, Sym, make_market, transition, unrealized

DAY_MS = 86_400_000


def with_sym(state: State, symbol: str, sym: Sym) -> State:
    syms = state.sym.copy()
    syms[symbol] = sym
    return replace(state, sym=syms)


def _candle(state: State, e: ev.CandleClosed) -> State:
    symbol = e.symbol
    p = state.params
    old = state.ind.get(symbol, EMPTY_IND)
    if e.ts <= old.ts:
        return state  # stale or repeated bar: decide reports it
    inds = state.ind.copy()
    inds[symbol] = ind_update(old, e.ts, e.high, e.low, e.close, p.donchian_len, p.atr_len)
    return replace(state, ind=inds)


def _equity_marked(state: State, e: ev.EquityMarked) -> State:
    """Daily-loss latch. Equity only moves with a mark (every bar with a position, every
    exit), so checking the marks sees every drop below anchor * (1 - daily_loss_limit)."""
    if state.daily_loss_hit or state.anchor_equity <= 0:
        return state
    if daily_loss_hit(e.equity, state.anchor_equity, state.params.daily_loss_limit):
        return replace(state, daily_loss_hit=True)
    return state


def _session(state: State, e: ev.SessionStarted) -> State:
    if state.prefix is not None:
        return state
    return replace(state, prefix=prefix_from_run_id(e.run_id))


def _market(state: State, e: ev.MarketLoaded) -> State:
    markets = state.markets.copy()
    markets[e.symbol] = make_market(e.tick_size, e.step_size, e.min_qty, e.min_notional)
    return replace(state, markets=markets)


def _equity_observed(state: State, e: ev.EquityObserved) -> State:
    return replace(state, cash=e.equity - unrealized(state))


def _anchor(state: State, e: ev.DailyAnchorReset) -> State:
    return replace(state, anchor_day=e.ts // DAY_MS, anchor_equity=e.equity, daily_loss_hit=False)


def _planned(state: State, e: ev.EntryPlanned) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    return with_sym(state, e.symbol, replace(sym, plan_side=e.side, plan_atr=e.atr))


def _submitted(state: State, e: ev.OrderSubmitted) -> State:
    orders = state.orders.copy()
    orders[e.client_id] = OrderRec(e.symbol, e.purpose, e.side, e.qty)
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    purpose = e.purpose
    if purpose == "entry":
        sym = transition(replace(sym, entry_id=e.client_id), "submit_entry")
    elif purpose == "stop":
        sym = replace(sym, stop_id=e.client_id)
    elif purpose == "take_profit":
        sym = replace(sym, tp_ids=sym.tp_ids + (e.client_id,))
    elif purpose == "pyramid":
        sym = replace(sym, pyr_id=e.client_id)
    elif purpose in ("manual_close", "emergency", "exit"):
        sym = replace(sym, exit_id=e.client_id)
    syms = state.sym.copy()
    syms[e.symbol] = sym
    return replace(state, counter=state.counter + 1, orders=orders, sym=syms)


def _forget_order(sym: Sym, client_id: str) -> Sym:
    """Drop a finished order from the symbol's slots."""
    if sym.entry_id == client_id:
        sym = replace(sym, entry_id=None)
    if sym.stop_id == client_id:
        sym = replace(sym, stop_id=None)
    if sym.pyr_id == client_id:
        sym = replace(sym, pyr_id=None)
    if sym.exit_id == client_id:
        sym = replace(sym, exit_id=None)
    if client_id in sym.tp_ids:
        sym = replace(sym, tp_ids=tuple(t for t in sym.tp_ids if t != client_id))
    return sym


def _cancel_requested(state: State, e: ev.OrderCancelRequested) -> State:
    rec = state.orders.get(e.client_id)
    if rec is None:
        return state
    orders = state.orders.copy()
    orders[e.client_id] = replace(rec, cancel_requested=True)
    sym = _forget_order(state.sym.get(e.symbol, EMPTY_SYM), e.client_id)
    syms = state.sym.copy()
    syms[e.symbol] = sym
    return replace(state, orders=orders, sym=syms)


def _order_ended(state: State, client_id: str, symbol: str) -> State:
    """A rejected or canceled order: drop it; an entry that never filled sends the symbol back to flat."""
    rec = state.orders.get(client_id)
    sym = state.sym.get(symbol, EMPTY_SYM)
    orders = state.orders
    if rec is not None:
        orders = orders.copy()
        del orders[client_id]
    was_entry = sym.entry_id == client_id
    was_exit = sym.exit_id == client_id
    sym = _forget_order(sym, client_id)
    if was_entry and sym.pos is None:
        sym = transition(sym, "entry_failed")
    elif was_exit and sym.pos is not None and sym.phase == "exiting":
        trigger = "exit_failed_pyramided" if sym.pos.adds else f"exit_failed_{sym.pos.side}"
        sym = transition(sym, trigger)
    syms = state.sym.copy()
    syms[symbol] = sym
    return replace(state, orders=orders, sym=syms, last_ended_id=client_id, last_ended=rec)


def _rejected(state: State, e: ev.OrderRejected) -> State:
    return _order_ended(state, e.client_id, e.symbol)


def _canceled(state: State, e: ev.OrderCanceled) -> State:
    return _order_ended(state, e.client_id, e.symbol)


def _stop_moved(state: State, e: ev.StopMoved) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    return with_sym(state, e.symbol, replace(sym, stop_price=e.stop_price, stop_reason=e.reason))


def _pyramid_added(state: State, e: ev.PyramidAdded) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    if sym.pos is None:
        return state
    return with_sym(state, e.symbol, replace(sym, pos=replace(sym.pos, pyr_next=e.level)))


def _position_closed(state: State, e: ev.PositionClosed) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    block = {"block_long": True} if e.side == "long" else {"block_short": True}
    return with_sym(state, e.symbol, replace(sym, closed=None, stop_price=0.0, stop_reason="", **block))


def _structural_reset(state: State, e: ev.StructuralReset) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    unblock = {"block_long": False} if e.side == "long" else {"block_short": False}
    return with_sym(state, e.symbol, replace(sym, **unblock))


def _manual_close(state: State, e: ev.ManualClose) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    return with_sym(state, e.symbol, transition(sym, "request_exit"))


def _emergency(state: State, e: ev.EmergencyAction) -> State:
    if e.action != "close" or e.symbol is None:
        return state
    return with_sym(state, e.symbol, transition(state.sym.get(e.symbol, EMPTY_SYM), "request_exit"))


def resume_trigger(sym: Sym) -> str:
    if sym.exit_id is not None and sym.pos is not None:
        return "resume_exiting"
    if sym.pos is None:
        return "resume_entering" if sym.entry_id is not None else "resume_flat"
    return "resume_pyramided" if sym.pos.adds else f"resume_{sym.pos.side}"


def _halted(state: State, e: ev.Halted) -> State:
    if e.symbol is None:
        return replace(state, halted_all=True)
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    sym = replace(sym, fault="")
    if sym.phase != "halted":
        sym = transition(sym, "halt")
    return with_sym(state, e.symbol, sym)


def _resumed(state: State, e: ev.Resumed) -> State:
    if e.symbol is None:
        syms = {s: transition(v, resume_trigger(v)) if v.phase == "halted" else v for s, v in state.sym.items()}
        return replace(state, halted_all=False, protect_only=False, sym=syms)
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    if sym.phase != "halted":
        return state
    return with_sym(state, e.symbol, transition(sym, resume_trigger(sym)))


def _protect_only(state: State, e: ev.ProtectOnlyRequested) -> State:
    return replace(state, protect_only=True)


def _error_observed(state: State, e: ev.ErrorObserved) -> State:
    p = state.params
    if e.reason not in p.kill_switch_reasons:
        return state
    horizon = e.ts - p.kill_switch_window_sec * 1000
    kept = [(t, r) for t, r in zip(state.error_ts, state.error_reasons) if t > horizon]
    kept.append((e.ts, e.reason))
    return replace(state, error_ts=tuple(t for t, _ in kept), error_reasons=tuple(r for _, r in kept))


def _kill_switch(state: State, e: ev.KillSwitchTripped) -> State:
    return replace(state, error_ts=(), error_reasons=())


def _error_raised(state: State, e: ev.ErrorRaised) -> State:
    return state


EVOLVERS = {
    ev.CandleClosed: _candle,
    ev.EquityMarked: _equity_marked,
    ev.SessionStarted: _session,
    ev.MarketLoaded: _market,
    ev.EquityObserved: _equity_observed,
    ev.DailyAnchorReset: _anchor,
    ev.EntryPlanned: _planned,
    ev.OrderSubmitted: _submitted,
    ev.OrderCancelRequested: _cancel_requested,
    ev.OrderRejected: _rejected,
    ev.OrderCanceled: _canceled,
    ev.OrderFilled: apply_fill,
    ev.StopMoved: _stop_moved,
    ev.PyramidAdded: _pyramid_added,
    ev.PositionClosed: _position_closed,
    ev.StructuralReset: _structural_reset,
    ev.ManualClose: _manual_close,
    ev.EmergencyAction: _emergency,
    ev.Halted: _halted,
    ev.Resumed: _resumed,
    ev.ProtectOnlyRequested: _protect_only,
    ev.ErrorObserved: _error_observed,
    ev.KillSwitchTripped: _kill_switch,
}


def evolve(state: State, event: ev.Event) -> State:
    """Fold one event into the state. Unknown-to-the-core events leave it unchanged."""
    handler = EVOLVERS.get(type(event))
    return state if handler is None else handler(state, event)
