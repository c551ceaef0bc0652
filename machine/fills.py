"""Applying one execution to the state: idempotent by fill_id, partial fills accumulate.

Opening fills (entry, pyramid) grow the position at a volume-weighted average price;
every other purpose reduces it. The trade's own average entry (`open_avg` over `open_qty`)
follows every opening fill and ignores exits: after a partial exit avg_price is the cost of
the lot still held, so it is not the price the trade was entered at. Cash is the realized ledger: fees leave it at once,
realized pnl joins it on each reducing fill. The fill that flattens a position leaves
a `ClosedTrade` for `decide` to publish as PositionClosed.
"""
from __future__ import annotations

from typing import Final

from msgspec.structs import replace as replace_event

from journal.events import OrderFilled
from machine.evolve_orders import forget_order
from machine.ids import client_id_prefix
from machine.records import replace
from machine.rounding import round_to
from machine.state import EMPTY_SYM, ClosedTrade, Position, State, Sym, seen_fill, transition

_QTY_EPS: Final = 1e-12
_QTY_DEC: Final = 9
"""Position sizes are sums of step-rounded fills: rounding the sum to 9 decimals removes float residue
(no venue step is finer), so the stop sent for the position is the position, not a truncated 1 step less."""
_STOP_REASONS: Final = {"initial": "stop", "trail": "trail", "breakeven": "breakeven"}


def close_reason(purpose: str, stop_reason: str) -> str:
    if purpose == "stop":
        return _STOP_REASONS.get(stop_reason, "stop")
    return purpose


def is_late(sym: Sym, e: OrderFilled, ours: bool) -> bool:
    """A *late fill*: an opening fill of one of our orders that is no longer the symbol's entry or
    pyramid order: the remainder of a partial entry or pyramid whose cancel came too late (after the
    stop or an exit took the position, or after a new signal). `ours`: still tracked, or carrying this
    journal's client id prefix (the venue may answer our cancel "unknown order" just before the fill).
    A fill of an order we never placed is not late: it is an illegal trigger and halts."""
    return ours and e.client_id != sym.entry_id and e.client_id != sym.pyr_id


def _open(sym: Sym, e: OrderFilled, purpose: str, late: bool) -> Sym:
    """Grow (or open) the position. A late fill is taken into the ledger as it is (decide closes it at
    once, `late_fill`), never as a trade the strategy chose: it opens through `late_fill_*` or grows
    the position without touching its entry price, size basis or pyramid count."""
    pos = sym.pos
    side = "long" if e.side == "buy" else "short"
    if late:
        sym = replace(sym, late_fill=e.fill_id)
    if pos is None:
        pos = Position(
            side=side,
            qty=e.qty,
            avg_price=e.price,
            entry_price=e.price,
            entry_ts=e.ts,
            entry_atr=sym.plan_atr,
            initial_qty=e.qty,
            trade_id=e.client_id,
            fees=e.fee,
            open_qty=e.qty,
            open_avg=e.price,
        )
        sym = sym.copy()  # a fresh value, filled in before anyone sees it
        sym.pos = pos
        if late:
            return transition(sym, f"late_fill_{side}")
        return transition(sym, f"filled_{side}" if purpose == "entry" else "pyramid_filled")
    if pos.side != side:
        return replace(sym, fault=f"{purpose} fill {e.fill_id} on the opposite side of the open {pos.side}")
    qty = round_to(pos.qty + e.qty, _QTY_DEC)  # 6.35 + 0.116 is 6.466, not 6.465999...: the venue truncates
    avg = (pos.avg_price * pos.qty + e.price * e.qty) / qty
    # The same arithmetic over every opening fill: until something is taken off, open_qty is qty and
    # open_avg is avg_price, bit for bit (a trade without partial exits reports what it always did).
    open_qty = round_to(pos.open_qty + e.qty, _QTY_DEC)
    open_avg = (pos.open_avg * pos.open_qty + e.price * e.qty) / open_qty
    if late:
        return replace(sym, pos=replace(pos, qty=qty, avg_price=avg, fees=pos.fees + e.fee, open_qty=open_qty,
                                        open_avg=open_avg))
    if purpose == "entry":
        pos = replace(pos, qty=qty, avg_price=avg, entry_price=avg, initial_qty=pos.initial_qty + e.qty,
                      fees=pos.fees + e.fee, open_qty=open_qty, open_avg=open_avg)
        return replace(sym, pos=pos)
    pos = replace(pos, qty=qty, avg_price=avg, fees=pos.fees + e.fee, adds=pos.adds + 1, open_qty=open_qty,
                  open_avg=open_avg)
    return transition(replace(sym, pos=pos), "pyramid_filled")


def _net_late(sym: Sym, e: OrderFilled) -> tuple[Sym, float]:
    """A late fill against an open position on the other side nets with it, as the venue's one-way
    book does: it reduces the position (a close with reason `late_fill`), and what exceeds it opens a
    late position on its own side. Returns (sym, realized gross pnl)."""
    pos = sym.pos
    assert pos is not None
    reduce_qty = min(e.qty, pos.qty)
    share = reduce_qty / e.qty
    sym, gross = _reduce(sym, replace_event(e, qty=reduce_qty, fee=e.fee * share), "late_fill")
    excess = round_to(e.qty - reduce_qty, _QTY_DEC)
    if excess > _QTY_EPS:
        sym = _open(sym, replace_event(e, qty=excess, fee=e.fee - e.fee * share), e.purpose, late=True)
    return sym, gross


def _reduce(sym: Sym, e: OrderFilled, purpose: str) -> tuple[Sym, float]:
    """Returns (sym, realized gross pnl of this fill)."""
    pos = sym.pos
    if pos is None:
        return replace(sym, fault=f"{purpose} fill {e.fill_id} with no open position"), 0.0
    qty = min(e.qty, pos.qty)
    diff = e.price - pos.avg_price
    gross = diff * qty if pos.side == "long" else -diff * qty
    left = round_to(pos.qty - qty, _QTY_DEC)
    pos = pos.copy()  # fresh values, filled in before anyone sees them
    pos.qty = left
    pos.realized += gross
    pos.fees += e.fee
    pos.exit_value += e.price * qty
    pos.exit_qty += qty
    sym = sym.copy()
    if left > _QTY_EPS:
        sym.pos = pos
        return sym, gross
    closed = ClosedTrade(
        fill_id=e.fill_id,
        ts=e.ts,
        side=pos.side,
        trade_id=pos.trade_id,
        qty=pos.exit_qty,
        entry_ts=pos.entry_ts,
        entry_price=pos.open_avg,  # the VWAP of all the trade's opening fills: the row reconciles with pnl
        exit_price=pos.exit_value / pos.exit_qty,
        pnl=pos.realized - pos.fees,
        fees=pos.fees,
        reason=close_reason(purpose, sym.stop_reason),
    )
    sym.pos, sym.closed, sym.late_fill = None, closed, ""
    return transition(sym, "flattened"), gross


def apply_fill(state: State, e: OrderFilled) -> State:
    if seen_fill(state, e.fill_id):
        state.last_fill_dup = True
        return state
    rec = state.orders.get(e.client_id)
    purpose = rec.purpose if rec is not None else e.purpose
    orders = state.orders
    if rec is not None:
        filled = rec.filled + e.qty
        if filled >= rec.qty - _QTY_EPS:
            del orders[e.client_id]
        else:
            orders[e.client_id] = replace(rec, filled=filled)
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    cash = state.cash - e.fee
    if purpose in ("entry", "pyramid"):
        late = is_late(sym, e, rec is not None or e.client_id.startswith(client_id_prefix(state)))
        if late and sym.pos is not None and sym.pos.side != ("long" if e.side == "buy" else "short"):
            sym, gross = _net_late(sym, e)
            cash += gross
        else:
            sym = _open(sym, e, purpose, late)
        if e.client_id not in orders:
            sym = replace(sym, entry_id=None) if sym.entry_id == e.client_id else sym
            sym = replace(sym, pyr_id=None) if sym.pyr_id == e.client_id else sym
    else:
        sym, gross = _reduce(sym, e, purpose)
        cash += gross
        if e.client_id not in orders:
            sym = forget_order(sym, e.client_id)
    state.sym[e.symbol] = sym
    state.cash = cash
    state.fill_ids.add(e.fill_id)
    state.last_fill_dup = False
    return state
