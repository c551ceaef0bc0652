"""evolve(state, event) -> state: the fold over every event, inputs and decisions.

Deterministic and free of I/O, clocks and randomness: the next state depends only on the
state and the event. The state is updated in place and returned (see `machine.state`).

Dispatch is a dict on the event's type (one lookup per event, cheaper than a long
`match` on the per-bar path). Events the core does not track return the same state.
Lifecycle changes go through `lifecycle.fire`; an illegal trigger never raises here:
the symbol keeps its phase and records `fault`, which `decide` turns into ErrorRaised
+ Halted.
"""
from __future__ import annotations

from datetime import date
from typing import Final

from journal import events as ev
from machine.fills import apply_fill
from machine.indicators import advance, new_ind
from machine.ids import prefix_from_run_id
from machine.records import replace
from machine.risk import daily_loss_hit
from machine.evolve_ops import OPS_EVOLVERS
from machine.evolve_orders import ORDER_EVOLVERS
from machine.state import EMPTY_SYM, State, make_market, unrealized, with_sym

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_CandleClosed: Final = ev.CandleClosed
_DailyAnchorReset: Final = ev.DailyAnchorReset
_EntryPlanned: Final = ev.EntryPlanned
_EquityMarked: Final = ev.EquityMarked
_EquityObserved: Final = ev.EquityObserved
_MarketLoaded: Final = ev.MarketLoaded
_OrderFilled: Final = ev.OrderFilled
_PositionClosed: Final = ev.PositionClosed
_PyramidAdded: Final = ev.PyramidAdded
_SessionStarted: Final = ev.SessionStarted
_StopMoved: Final = ev.StopMoved
_StructuralReset: Final = ev.StructuralReset

DAY_MS: Final = 86_400_000
_EPOCH = date(1970, 1, 1)


def day_number(day: str) -> int:
    """Days since 1970-01-01 of an ISO date ("2025-03-01"): the anchor's own day, whichever bar or
    request recorded it."""
    return (date.fromisoformat(day) - _EPOCH).days


def evolve_candle(state: State, e: ev.CandleClosed) -> State:
    """The per-bar fold: the symbol's indicator record advances in place (see `Ind`)."""
    ind = state.ind.get(e.symbol)
    if ind is None:
        ind = state.ind[e.symbol] = new_ind()
    elif e.ts <= ind.ts:
        return state  # stale or repeated bar: decide reports it
    advance(ind, e.ts, e.high, e.low, e.close, state.donchian_len, state.atr_len)
    return state


def _equity_marked(state: State, e: ev.EquityMarked) -> State:
    """Daily-loss latch. Equity only moves with a mark (every bar with a position, every
    exit), so checking the marks sees every drop below anchor * (1 - daily_loss_limit)."""
    if state.daily_loss_hit or state.anchor_equity <= 0:
        return state
    if daily_loss_hit(e.equity, state.anchor_equity, state.params.daily_loss_limit):
        state.daily_loss_hit = True
    return state


def _session(state: State, e: ev.SessionStarted) -> State:
    if state.prefix is None:
        state.prefix = prefix_from_run_id(e.run_id)
    return state


def _market(state: State, e: ev.MarketLoaded) -> State:
    state.markets[e.symbol] = make_market(e.tick_size, e.step_size, e.min_qty, e.min_notional)
    return state


def _equity_observed(state: State, e: ev.EquityObserved) -> State:
    """The venue's wallet re-bases cash; it is equity too, so it feeds the daily-loss latch (a drop while
    flat, from fees, funding or a trade by hand, would otherwise never block entries)."""
    state.cash = e.equity - unrealized(state)
    if not state.daily_loss_hit and state.anchor_equity > 0 and daily_loss_hit(
            e.equity, state.anchor_equity, state.params.daily_loss_limit):
        state.daily_loss_hit = True
    return state


def _anchor(state: State, e: ev.DailyAnchorReset) -> State:
    state.anchor_day = day_number(e.day)
    state.anchor_equity = e.equity
    state.daily_loss_hit = False
    return state


def _planned(state: State, e: ev.EntryPlanned) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM)
    return with_sym(state, e.symbol, replace(sym, plan_side=e.side, plan_atr=e.atr))


def _stop_moved(state: State, e: ev.StopMoved) -> State:
    sym = state.sym.get(e.symbol, EMPTY_SYM).copy()  # a fresh value, filled in before anyone sees it
    sym.stop_price, sym.stop_reason = e.stop_price, e.reason
    return with_sym(state, e.symbol, sym)


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


EVOLVERS: Final = {
    **ORDER_EVOLVERS,
    **OPS_EVOLVERS,
    _CandleClosed: evolve_candle,
    _EquityMarked: _equity_marked,
    _SessionStarted: _session,
    _MarketLoaded: _market,
    _EquityObserved: _equity_observed,
    _DailyAnchorReset: _anchor,
    _EntryPlanned: _planned,
    _OrderFilled: apply_fill,
    _StopMoved: _stop_moved,
    _PyramidAdded: _pyramid_added,
    _PositionClosed: _position_closed,
    _StructuralReset: _structural_reset,
}


def evolve(state: State, event: ev.Event) -> State:
    """Fold one event into the state. Unknown-to-the-core events leave it unchanged."""
    handler = EVOLVERS.get(type(event))
    return state if handler is None else handler(state, event)
