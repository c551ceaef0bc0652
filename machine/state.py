"""The folded state: what the decider knows after every event so far.

`State` is the fold's own record: `machine.evolve` updates it in place and hands it back
(one fold owns one state; `snapshot` copies it for anyone who must keep an earlier one).
Rebuilding it on every bar cost more than the bar's decisions. Inside it, per-bar data
(`Ind`, advanced in place) sits apart from the per-symbol trading records (`Sym`,
`Position`, `OrderRec`), which stay frozen values and are replaced whole when they change,
so a decision can hold one while the fold moves on.
"""
from __future__ import annotations

import msgspec
from msgspec.structs import replace

from machine.indicators import Ind
from machine.lifecycle import IllegalTransition, fire
from machine.params import Params
from machine.risk import step_decimals


class Market(msgspec.Struct, frozen=True):
    tick: float
    step: float
    min_qty: float
    min_notional: float
    tick_dec: int
    step_dec: int


def make_market(tick: float, step: float, min_qty: float, min_notional: float) -> Market:
    return Market(tick, step, min_qty, min_notional, step_decimals(tick), step_decimals(step))


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """An open position. avg_price is the average cost of what is still held (what unrealized and
    realized pnl are measured against); entry_price is the average of the entry order's fills (stops,
    pyramid levels and take-profits are placed from it). open_qty / open_avg cover every opening fill
    of the trade (entry, pyramid, late) and ignore exits: the trade's total entry quantity and its
    volume-weighted average entry, which PositionClosed reports as entry_price."""

    side: str
    qty: float
    avg_price: float
    entry_price: float
    entry_ts: int
    entry_atr: float
    initial_qty: float
    trade_id: str
    fees: float = 0.0
    realized: float = 0.0  # gross pnl of partial exits so far
    exit_value: float = 0.0  # sum(exit price * qty), for the average exit price
    exit_qty: float = 0.0
    adds: int = 0  # pyramid fills applied
    open_qty: float = 0.0  # sum of the opening fills' qty (rounded as qty is)
    open_avg: float = 0.0  # their volume-weighted average price
    pyr_next: int = 0  # next pyramid level index to try


class ClosedTrade(msgspec.Struct, frozen=True, kw_only=True):
    """Set by the fill that flattened a position; decide turns it into PositionClosed."""

    fill_id: str
    ts: int
    side: str
    trade_id: str
    qty: float
    entry_ts: int
    entry_price: float
    exit_price: float
    pnl: float
    fees: float
    reason: str


class Sym(msgspec.Struct, frozen=True, kw_only=True):
    """Trading state of one symbol. `phase` is a lifecycle.Phase value."""

    phase: str = "flat"
    pos: Position | None = None
    plan_side: str = ""
    plan_atr: float = 0.0
    entry_id: str | None = None
    stop_id: str | None = None
    stop_price: float = 0.0
    stop_reason: str = ""
    tp_ids: tuple[str, ...] = ()
    pyr_id: str | None = None
    exit_id: str | None = None
    block_long: bool = False
    block_short: bool = False
    closed: ClosedTrade | None = None
    fault: str = ""  # an illegal trigger met in evolve; decide reports it and halts
    late_fill: str = ""  # fill id of an opening fill that landed after its position closed (decide closes it)


EMPTY_SYM = Sym()


class OrderRec(msgspec.Struct, frozen=True):
    """One of our live orders (dropped once filled, canceled or rejected)."""

    symbol: str
    purpose: str
    side: str
    qty: float
    filled: float = 0.0
    cancel_requested: bool = False


def seen_fill(state: "State", fill_id: str) -> bool:
    return fill_id in state.fill_ids


class State(msgspec.Struct, kw_only=True):
    params: Params
    bar_ms: int
    default_market: Market
    prefix: str | None = None
    counter: int = 0
    cash: float = 0.0
    anchor_day: int = -1
    anchor_equity: float = 0.0
    daily_loss_hit: bool = False
    protect_only: bool = False
    halted_all: bool = False
    dd_emergency_day: int = -1  # UTC day number on which the daily-drawdown emergency fired (once a day)
    ind: dict[str, Ind] = {}
    sym: dict[str, Sym] = {}
    orders: dict[str, OrderRec] = {}
    markets: dict[str, Market] = {}
    fill_ids: set[str] = set()  # every applied fill id (fills are idempotent)
    last_fill_dup: bool = False
    last_ended_id: str = ""  # the order the latest reject/cancel ended, for decide
    last_ended: OrderRec | None = None
    error_ts: tuple[int, ...] = ()
    error_reasons: tuple[str, ...] = ()


def initial_state(params: Params) -> State:
    default_market = make_market(params.default_tick_size, params.default_step_size, 0.0,
                                 params.default_min_notional)
    return State(params=params, bar_ms=params.bar_ms, default_market=default_market, cash=params.initial_equity)


def unrealized(state: State) -> float:
    """Unrealized pnl of every open position at the latest closes."""
    total = 0.0
    inds = state.ind
    for symbol, sym in state.sym.items():
        pos = sym.pos
        if pos is not None:
            ind = inds.get(symbol)
            diff = (ind.close if ind is not None else pos.avg_price) - pos.avg_price
            total += diff * pos.qty if pos.side == "long" else -diff * pos.qty
    return total


def equity(state: State) -> float:
    """Realized cash plus unrealized pnl at the latest closes."""
    return state.cash + unrealized(state)


def market_of(state: State, symbol: str) -> Market:
    return state.markets.get(symbol, state.default_market)


def transition(sym: Sym, trigger: str) -> Sym:
    """Fire a lifecycle trigger. While halted only resume_* applies (other facts keep
    `halted`); an illegal trigger keeps the phase and records `fault` for decide."""
    if sym.phase == "halted" and not trigger.startswith("resume_"):
        return sym
    try:
        return replace(sym, phase=fire(sym.phase, trigger))
    except IllegalTransition as exc:
        return replace(sym, fault=str(exc))


def with_sym(state: State, symbol: str, sym: Sym) -> State:
    state.sym[symbol] = sym
    return state


def snapshot(state: State) -> State:
    """An independent copy of `state` (the fold updates its own state in place); the records
    inside are frozen values, except the indicator rings, which are copied too."""
    inds = {symbol: replace(ind, highs=list(ind.highs), lows=list(ind.lows)) for symbol, ind in state.ind.items()}
    return replace(state, ind=inds, sym=dict(state.sym), orders=dict(state.orders), markets=dict(state.markets),
                   fill_ids=set(state.fill_ids))
