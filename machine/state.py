"""The folded state: what the decider knows after every event so far.

`State` is the fold's own record: `machine.evolve` updates it in place and hands it back
(one fold owns one state; `snapshot` copies it for anyone who must keep an earlier one).
Rebuilding it on every bar cost more than the bar's decisions. Inside it, per-bar data
(`Ind`, advanced in place) sits apart from the per-symbol trading records (`Sym`,
`Position`, `OrderRec`, in `machine.records`), which are values: replaced whole when they
change, never edited, so a decision can hold one while the fold moves on. `State` and `Ind` are
plain classes so that the compiled core (build_core.py) reads their fields natively.
"""
from __future__ import annotations

from machine.indicators import Ind
from machine.lifecycle import IllegalTransition, fire
from machine.params import Params
from machine.records import EMPTY_SYM, ClosedTrade, Market, OrderRec, Position, Sym, make_market


def seen_fill(state: "State", fill_id: str) -> bool:
    return fill_id in state.fill_ids


class State:
    """The fold's own record (see the module docstring); every field is set in `__init__`."""

    params: Params
    bar_ms: int
    donchian_len: int  # params.donchian_len and params.atr_len, read on every bar: native fields
    atr_len: int
    default_market: Market
    prefix: str | None
    counter: int
    cash: float
    anchor_day: int
    anchor_equity: float
    daily_loss_hit: bool
    protect_only: bool
    halted_all: bool
    dd_emergency_day: int  # UTC day number on which the daily-drawdown emergency fired (once a day)
    ind: dict[str, Ind]
    sym: dict[str, Sym]
    orders: dict[str, OrderRec]
    markets: dict[str, Market]
    fill_ids: set[str]  # every applied fill id (fills are idempotent)
    last_fill_dup: bool
    last_ended_id: str  # the order the latest reject/cancel ended, for decide
    last_ended: OrderRec | None
    error_ts: tuple[int, ...]
    error_reasons: tuple[str, ...]

    def __init__(self, params: Params, bar_ms: int, default_market: Market, cash: float) -> None:
        self.params = params
        self.bar_ms = bar_ms
        self.donchian_len = params.donchian_len
        self.atr_len = params.atr_len
        self.default_market = default_market
        self.prefix = None
        self.counter = 0
        self.cash = cash
        self.anchor_day = -1
        self.anchor_equity = 0.0
        self.daily_loss_hit = False
        self.protect_only = False
        self.halted_all = False
        self.dd_emergency_day = -1
        self.ind = {}
        self.sym = {}
        self.orders = {}
        self.markets = {}
        self.fill_ids = set()
        self.last_fill_dup = False
        self.last_ended_id = ""
        self.last_ended = None
        self.error_ts = ()
        self.error_reasons = ()

    def __eq__(self, other: object) -> bool:
        """Equal when every field is, nested records and indicator rings included (NaN equals NaN; the
        order a dict or set was filled in does not count)."""
        return isinstance(other, State) and fingerprint(self) == fingerprint(other)

    def __reduce__(self) -> tuple:
        """Pickle and deepcopy (compiled, a native class has no __dict__ for them to copy)."""
        return _restore_state, (tuple(getattr(self, name) for name in _STATE_FIELDS),)

    def copy(self) -> "State":
        """A shallow copy: the containers are shared until `snapshot` replaces them."""
        other = State(self.params, self.bar_ms, self.default_market, self.cash)
        for name in _COPIED_FIELDS:
            setattr(other, name, getattr(self, name))
        return other


_STATE_FIELDS = ("params", "bar_ms", "donchian_len", "atr_len", "default_market", "prefix", "counter", "cash",
                 "anchor_day", "anchor_equity", "daily_loss_hit", "protect_only", "halted_all", "dd_emergency_day",
                 "ind", "sym", "orders", "markets", "fill_ids", "last_fill_dup", "last_ended_id", "last_ended",
                 "error_ts", "error_reasons")
_INIT_FIELDS = ("params", "bar_ms", "donchian_len", "atr_len", "default_market", "cash")  # set by __init__
_COPIED_FIELDS = tuple(name for name in _STATE_FIELDS if name not in _INIT_FIELDS)


def _restore_state(values: tuple) -> State:
    fields = dict(zip(_STATE_FIELDS, values))
    state = State(fields["params"], fields["bar_ms"], fields["default_market"], fields["cash"])
    for name in _COPIED_FIELDS:
        setattr(state, name, fields[name])
    return state


def initial_state(params: Params) -> State:
    default_market = make_market(params.default_tick_size, params.default_step_size, 0.0,
                                 params.default_min_notional)
    return State(params, params.bar_ms, default_market, params.initial_equity)


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
    new = sym.copy()  # a fresh value, filled in before anyone sees it
    try:
        new.phase = fire(sym.phase, trigger)
    except IllegalTransition as exc:
        new.fault = str(exc)
    return new


def with_sym(state: State, symbol: str, sym: Sym) -> State:
    state.sym[symbol] = sym
    return state


def fingerprint(state: State) -> str:
    """Every field of the state, nested records and indicator rings included, as text: equal
    fingerprints mean equal states (NaN included; dicts and sets in sorted order, so the order they
    were filled in does not count), for proofs that a call left a state untouched."""
    return " ".join(f"{name}={_text(getattr(state, name))}" for name in _STATE_FIELDS)


def _text(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {_text(item)}" for key, item in sorted(value.items())) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(repr(item) for item in value)) + "}"
    if isinstance(value, Ind):
        return repr(value.values())
    return repr(value)


def snapshot(state: State) -> State:
    """An independent copy of `state` (the fold updates its own state in place); the records
    inside are values, never edited, and the indicator records, which are, are copied too."""
    other = state.copy()
    other.ind = {symbol: ind.copy() for symbol, ind in state.ind.items()}
    other.sym, other.orders, other.markets = dict(state.sym), dict(state.orders), dict(state.markets)
    other.fill_ids = set(state.fill_ids)
    return other
