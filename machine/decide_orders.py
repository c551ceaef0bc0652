"""Decisions on exchange answers: protect every open position, publish closed trades,
and recover from rejected or vanished orders.

- A fill that leaves a position open makes sure one stop covers exactly its quantity
  (the first one is the initial stop; a changed quantity re-arms: new stop first, then
  cancel the old). A completed entry also places the take-profit ladder if configured.
- The fill that flattens publishes PositionClosed + EquityMarked and cancels leftovers.
- A rejected stop means an unprotected position: a fallback stop, then the emergency
  policy (machine.emergency).
  A stop that vanished without our request is re-placed. A rejected exit re-arms the stop.
"""
from __future__ import annotations

from typing import Final

from journal import events as ev
from machine import emergency
from machine.emit import Out, close_side
from machine.params import Params
from machine.records import replace
from machine.risk import floor_to_step, initial_stop, stop_toward_price
from machine.state import EMPTY_SYM, State, Sym, market_of, unrealized

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_EmergencyAction: Final = ev.EmergencyAction
_EquityMarked: Final = ev.EquityMarked
_ErrorRaised: Final = ev.ErrorRaised
_Halted: Final = ev.Halted
_OrderRejected: Final = ev.OrderRejected
_PositionClosed: Final = ev.PositionClosed
_StopMoved: Final = ev.StopMoved


def report_fault(e: ev.Event, symbol: str, sym: Sym, out: list[ev.Event]) -> None:
    if sym.fault:
        out.append(_ErrorRaised(ts=e.ts, symbol=symbol, reason="illegal_transition", detail=sym.fault))
        out.append(_Halted(ts=e.ts, symbol=symbol, reason="illegal_transition"))


def decide_fill(state: State, e: ev.OrderFilled, p: Params) -> list[ev.Event]:
    if state.last_fill_dup:
        return []
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    out: list[ev.Event] = []
    report_fault(e, e.symbol, sym, out)
    emit = Out(state, out)
    closed = sym.closed
    if closed is not None and closed.fill_id == e.fill_id:
        out.append(_PositionClosed(ts=e.ts, symbol=e.symbol, side=closed.side, trade_id=closed.trade_id,
                                   qty=closed.qty, entry_ts=closed.entry_ts, entry_price=closed.entry_price,
                                   exit_price=closed.exit_price, pnl=closed.pnl, fees=closed.fees,
                                   reason=closed.reason))
        out.append(_EquityMarked(ts=e.ts, equity=state.cash + unrealized(state), realized=state.cash,
                                 unrealized=unrealized(state)))
        for client_id in (sym.stop_id, *sym.tp_ids, sym.pyr_id, sym.entry_id, sym.exit_id):
            emit.cancel(e.ts, e.symbol, client_id, "position_closed")
        if sym.pos is not None and sym.late_fill == e.fill_id:  # a late fill netted it and opened the rest
            # that new position has none of the old one's orders (all canceled just above) nor its stop level
            fresh = replace(sym, stop_id=None, stop_price=0.0, tp_ids=(), pyr_id=None, entry_id=None, exit_id=None)
            _close_late_fill(state, e, fresh, p, emit)
        return out
    if sym.pos is not None and sym.late_fill == e.fill_id:
        _close_late_fill(state, e, sym, p, emit)
        return out
    if sym.pos is not None and sym.exit_id is None:
        ensure_stop(state, e.ts, e.symbol, sym, p, emit)
        if p.tp_levels and sym.entry_id is None and not sym.tp_ids and sym.pos.adds == 0 \
                and e.client_id == sym.pos.trade_id:
            _place_take_profits(state, e.ts, e.symbol, sym, p, emit)
    return out


def _close_late_fill(state: State, e: ev.OrderFilled, sym: Sym, p: Params, emit: Out) -> None:
    """An opening fill that landed after its position closed (or while it is being closed): the
    remainder of a partial entry or pyramid whose cancel came too late. It is not a trade the
    strategy chose, so it is protected by a stop and closed at market at once; the symbol keeps
    trading. The close ignores `emergency_min_pnl_to_close_pct`: keeping it would be a choice."""
    pos = sym.pos
    assert pos is not None
    emit.add(_ErrorRaised(ts=e.ts, symbol=e.symbol, reason="late_fill",
                          detail=f"fill {e.fill_id} of {e.client_id} ({e.qty}) is no longer the symbol's entry "
                                 "or pyramid; closing it"))
    ensure_stop(state, e.ts, e.symbol, sym, p, emit)
    emit.cancel(e.ts, e.symbol, sym.entry_id, "late_fill")  # no new entry while a late fill is unwound
    emit.add(_EmergencyAction(ts=e.ts, policy="flatten", action="close", outcome="done", reason="ok",
                              symbol=e.symbol, trigger="late_fill"))
    emit.order(e.ts, e.symbol, close_side(pos.side), "market", min(e.qty, pos.qty), "emergency", reduce_only=True)


def ensure_stop(state: State, ts: int, symbol: str, sym: Sym, p: Params, emit: Out) -> None:
    """One live stop for exactly the position's quantity."""
    pos = sym.pos
    assert pos is not None
    market = market_of(state, symbol)
    if sym.stop_id is None:
        if sym.stop_price > 0:
            price = sym.stop_price
        else:
            price = initial_stop(pos.side, pos.entry_price, pos.entry_atr, p, market.tick, market.tick_dec)
            emit.add(_StopMoved(ts=ts, symbol=symbol, side=pos.side, stop_price=price, reason="initial"))
        emit.order(ts, symbol, close_side(pos.side), "stop_market", pos.qty, "stop", stop_price=price,
                   reduce_only=True)
        return
    rec = state.orders.get(sym.stop_id)
    if rec is not None and abs((rec.qty - rec.filled) - pos.qty) > 1e-12:
        emit.order(ts, symbol, close_side(pos.side), "stop_market", pos.qty, "stop", stop_price=sym.stop_price,
                   reduce_only=True)
        emit.cancel(ts, symbol, sym.stop_id, "resized")


def _place_take_profits(state: State, ts: int, symbol: str, sym: Sym, p: Params, emit: Out) -> None:
    pos = sym.pos
    assert pos is not None
    market = market_of(state, symbol)
    risk = p.atr_stop_k * pos.entry_atr
    for r_multiple, fraction in p.tp_levels:
        raw = pos.entry_price + r_multiple * risk if pos.side == "long" else pos.entry_price - r_multiple * risk
        price = stop_toward_price("short" if pos.side == "long" else "long", raw, market.tick, market.tick_dec)
        qty = floor_to_step(fraction * pos.qty, market.step, market.step_dec)
        if qty > 0 and qty >= market.min_qty:
            emit.order(ts, symbol, close_side(pos.side), "take_profit_market", qty, "take_profit",
                       stop_price=price, reduce_only=True)


def decide_order_ended(state: State, e: ev.OrderRejected | ev.OrderCanceled, p: Params) -> list[ev.Event]:
    rec = state.last_ended if state.last_ended_id == e.client_id else None
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    out: list[ev.Event] = []
    report_fault(e, e.symbol, sym, out)
    if rec is None or sym.pos is None or rec.cancel_requested:
        return out
    emit = Out(state, out)
    if rec.purpose == "stop" and sym.stop_id is None and sym.exit_id is None:
        if isinstance(e, _OrderRejected):
            emergency.on_stop_rejected(state, e, sym, p, emit)  # fallback stop, then the policy
        else:
            ensure_stop(state, e.ts, e.symbol, sym, p, emit)
    elif rec.purpose in ("manual_close", "emergency", "exit") and sym.exit_id is None:
        out.extend(emergency.close_failed(e, rec))
        out.append(_ErrorRaised(ts=e.ts, symbol=e.symbol, reason="exit_failed",
                                detail=f"{rec.purpose} order {e.client_id} ended unfilled; stop re-armed"))
        if sym.stop_id is None:
            ensure_stop(state, e.ts, e.symbol, sym, p, emit)
    return out
