"""The per-symbol trading records of the folded state, replaced whole when they change, so a
decision can hold one while the fold moves on (see `machine.state`).

Plain classes with typed slots, not msgspec Structs: under the compiled core (mypyc, see
`build_core.py`) their fields are native, read at a fixed offset, where a Struct's field is a
generic attribute lookup, the largest cost of a compiled bar. Nothing encodes them: the journal
holds events, never state. Treat them as values: change one through `replace`, never in place."""
from __future__ import annotations

from typing import Any, Final, TypeVar, cast

from machine.risk import step_decimals


_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "Market": ('tick', 'step', 'min_qty', 'min_notional', 'tick_dec', 'step_dec',),
    "Position": ('side', 'qty', 'avg_price', 'entry_price', 'entry_ts', 'entry_atr', 'initial_qty', 'trade_id',
                 'fees', 'realized', 'exit_value', 'exit_qty', 'adds', 'open_qty', 'open_avg', 'pyr_next',),
    "ClosedTrade": ('fill_id', 'ts', 'side', 'trade_id', 'qty', 'entry_ts', 'entry_price', 'exit_price', 'pnl',
                    'fees', 'reason',),
    "Sym": ('phase', 'pos', 'plan_side', 'plan_atr', 'entry_id', 'stop_id', 'stop_price', 'stop_reason', 'tp_ids',
            'pyr_id', 'exit_id', 'block_long', 'block_short', 'closed', 'fault', 'late_fill',),
    "OrderRec": ('symbol', 'purpose', 'side', 'qty', 'filled', 'cancel_requested',),
}

R = TypeVar("R", bound="Record")


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with `changes` (what msgspec.structs.replace did for these records; events stay
    msgspec Structs and use msgspec's own). The per-bar paths copy and fill a record instead."""
    new = cast(R, record.copy())  # each record's copy() returns its own type
    for name, value in changes.items():
        setattr(new, name, value)
    return new


class Record:
    """Value semantics for the records below: equal when their fields are, shown with their names.
    Each lists its fields in `values()` and copies itself field by field (`copy`): compiled, both
    are native reads, where a generic copy would look every field up by name."""

    __slots__ = ()

    def values(self) -> tuple:
        raise NotImplementedError

    def copy(self) -> Record:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.values() == other.values()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(" + ", ".join(f"{n}={v!r}" for n, v in zip(_FIELD_NAMES[name], self.values())) + ")"

    def __reduce__(self) -> tuple:
        """Pickle and deepcopy (compiled, a native class has no __dict__ for them to copy)."""
        return _restore_record, (type(self).__name__, self.values())


class Market(Record):
    """Venue rules of one symbol: tick and step with their decimals, minimum quantity and notional."""

    __slots__ = ('tick', 'step', 'min_qty', 'min_notional', 'tick_dec', 'step_dec',)

    tick: float
    step: float
    min_qty: float
    min_notional: float
    tick_dec: int
    step_dec: int

    def __init__(self, tick: float, step: float, min_qty: float, min_notional: float, tick_dec: int,
                 step_dec: int) -> None:
        self.tick = tick
        self.step = step
        self.min_qty = min_qty
        self.min_notional = min_notional
        self.tick_dec = tick_dec
        self.step_dec = step_dec

    def copy(self) -> Market:
        return Market(self.tick, self.step, self.min_qty, self.min_notional, self.tick_dec, self.step_dec)

    def values(self) -> tuple:
        return (self.tick, self.step, self.min_qty, self.min_notional, self.tick_dec, self.step_dec,)


class Position(Record):
    """An open position. avg_price is the average cost of what is still held (what unrealized and
    realized pnl are measured against); entry_price is the average of the entry order's fills (stops,
    pyramid levels and take-profits are placed from it). open_qty / open_avg cover every opening fill
    of the trade (entry, pyramid, late) and ignore exits: the trade's total entry quantity and its
    volume-weighted average entry, which PositionClosed reports as entry_price."""

    __slots__ = ('side', 'qty', 'avg_price', 'entry_price', 'entry_ts', 'entry_atr', 'initial_qty', 'trade_id',
                 'fees', 'realized', 'exit_value', 'exit_qty', 'adds', 'open_qty', 'open_avg', 'pyr_next',)

    side: str
    qty: float
    avg_price: float
    entry_price: float
    entry_ts: int
    entry_atr: float
    initial_qty: float
    trade_id: str
    fees: float
    realized: float  # gross pnl of partial exits so far
    exit_value: float  # sum(exit price * qty), for the average exit price
    exit_qty: float
    adds: int  # pyramid fills applied
    open_qty: float  # sum of the opening fills' qty (rounded as qty is)
    open_avg: float  # their volume-weighted average price
    pyr_next: int  # next pyramid level index to try

    def __init__(self, *, side: str, qty: float, avg_price: float, entry_price: float, entry_ts: int, entry_atr:
                 float, initial_qty: float, trade_id: str, fees: float = 0.0, realized: float = 0.0, exit_value: float
                 = 0.0, exit_qty: float = 0.0, adds: int = 0, open_qty: float = 0.0, open_avg: float = 0.0, pyr_next:
                 int = 0) -> None:
        self.side = side
        self.qty = qty
        self.avg_price = avg_price
        self.entry_price = entry_price
        self.entry_ts = entry_ts
        self.entry_atr = entry_atr
        self.initial_qty = initial_qty
        self.trade_id = trade_id
        self.fees = fees
        self.realized = realized
        self.exit_value = exit_value
        self.exit_qty = exit_qty
        self.adds = adds
        self.open_qty = open_qty
        self.open_avg = open_avg
        self.pyr_next = pyr_next

    def copy(self) -> Position:
        return Position(side=self.side, qty=self.qty, avg_price=self.avg_price, entry_price=self.entry_price,
                        entry_ts=self.entry_ts, entry_atr=self.entry_atr, initial_qty=self.initial_qty,
                        trade_id=self.trade_id, fees=self.fees, realized=self.realized, exit_value=self.exit_value,
                        exit_qty=self.exit_qty, adds=self.adds, open_qty=self.open_qty, open_avg=self.open_avg,
                        pyr_next=self.pyr_next)

    def values(self) -> tuple:
        return (self.side, self.qty, self.avg_price, self.entry_price, self.entry_ts, self.entry_atr,
                self.initial_qty, self.trade_id, self.fees, self.realized, self.exit_value, self.exit_qty, self.adds,
                self.open_qty, self.open_avg, self.pyr_next,)


class ClosedTrade(Record):
    """Set by the fill that flattened a position; decide turns it into PositionClosed."""

    __slots__ = ('fill_id', 'ts', 'side', 'trade_id', 'qty', 'entry_ts', 'entry_price', 'exit_price', 'pnl', 'fees',
                 'reason',)

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

    def __init__(self, *, fill_id: str, ts: int, side: str, trade_id: str, qty: float, entry_ts: int, entry_price:
                 float, exit_price: float, pnl: float, fees: float, reason: str) -> None:
        self.fill_id = fill_id
        self.ts = ts
        self.side = side
        self.trade_id = trade_id
        self.qty = qty
        self.entry_ts = entry_ts
        self.entry_price = entry_price
        self.exit_price = exit_price
        self.pnl = pnl
        self.fees = fees
        self.reason = reason

    def copy(self) -> ClosedTrade:
        return ClosedTrade(fill_id=self.fill_id, ts=self.ts, side=self.side, trade_id=self.trade_id, qty=self.qty,
                           entry_ts=self.entry_ts, entry_price=self.entry_price, exit_price=self.exit_price,
                           pnl=self.pnl, fees=self.fees, reason=self.reason)

    def values(self) -> tuple:
        return (self.fill_id, self.ts, self.side, self.trade_id, self.qty, self.entry_ts, self.entry_price,
                self.exit_price, self.pnl, self.fees, self.reason,)


class Sym(Record):
    """Trading state of one symbol. `phase` is a lifecycle.Phase value."""

    __slots__ = ('phase', 'pos', 'plan_side', 'plan_atr', 'entry_id', 'stop_id', 'stop_price', 'stop_reason',
                 'tp_ids', 'pyr_id', 'exit_id', 'block_long', 'block_short', 'closed', 'fault', 'late_fill',)

    phase: str
    pos: Position | None
    plan_side: str
    plan_atr: float
    entry_id: str | None
    stop_id: str | None
    stop_price: float
    stop_reason: str
    tp_ids: tuple[str, ...]
    pyr_id: str | None
    exit_id: str | None
    block_long: bool
    block_short: bool
    closed: ClosedTrade | None
    fault: str  # an illegal trigger met in evolve; decide reports it and halts
    late_fill: str  # fill id of an opening fill that landed after its position closed (decide closes it)

    def __init__(self, *, phase: str = "flat", pos: Position | None = None, plan_side: str = "", plan_atr: float =
                 0.0, entry_id: str | None = None, stop_id: str | None = None, stop_price: float = 0.0, stop_reason:
                 str = "", tp_ids: tuple[str, ...] = (), pyr_id: str | None = None, exit_id: str | None = None,
                 block_long: bool = False, block_short: bool = False, closed: ClosedTrade | None = None, fault: str =
                 "", late_fill: str = "") -> None:
        self.phase = phase
        self.pos = pos
        self.plan_side = plan_side
        self.plan_atr = plan_atr
        self.entry_id = entry_id
        self.stop_id = stop_id
        self.stop_price = stop_price
        self.stop_reason = stop_reason
        self.tp_ids = tp_ids
        self.pyr_id = pyr_id
        self.exit_id = exit_id
        self.block_long = block_long
        self.block_short = block_short
        self.closed = closed
        self.fault = fault
        self.late_fill = late_fill

    def copy(self) -> Sym:
        return Sym(phase=self.phase, pos=self.pos, plan_side=self.plan_side, plan_atr=self.plan_atr,
                   entry_id=self.entry_id, stop_id=self.stop_id, stop_price=self.stop_price,
                   stop_reason=self.stop_reason, tp_ids=self.tp_ids, pyr_id=self.pyr_id, exit_id=self.exit_id,
                   block_long=self.block_long, block_short=self.block_short, closed=self.closed, fault=self.fault,
                   late_fill=self.late_fill)

    def values(self) -> tuple:
        return (self.phase, self.pos, self.plan_side, self.plan_atr, self.entry_id, self.stop_id, self.stop_price,
                self.stop_reason, self.tp_ids, self.pyr_id, self.exit_id, self.block_long, self.block_short,
                self.closed, self.fault, self.late_fill,)


class OrderRec(Record):
    """One of our live orders (dropped once filled, canceled or rejected)."""

    __slots__ = ('symbol', 'purpose', 'side', 'qty', 'filled', 'cancel_requested',)

    symbol: str
    purpose: str
    side: str
    qty: float
    filled: float
    cancel_requested: bool

    def __init__(self, symbol: str, purpose: str, side: str, qty: float, filled: float = 0.0, cancel_requested: bool =
                 False) -> None:
        self.symbol = symbol
        self.purpose = purpose
        self.side = side
        self.qty = qty
        self.filled = filled
        self.cancel_requested = cancel_requested

    def copy(self) -> OrderRec:
        return OrderRec(self.symbol, self.purpose, self.side, self.qty, self.filled, self.cancel_requested)

    def values(self) -> tuple:
        return (self.symbol, self.purpose, self.side, self.qty, self.filled, self.cancel_requested,)


def _restore_record(name: str, values: tuple) -> Record:
    record: Record = _RECORD_TYPES[name](**dict(zip(_FIELD_NAMES[name], values)))
    return record


_RECORD_TYPES: Final[dict[str, Any]] = {cls.__name__: cls for cls in (Market, Position, ClosedTrade, Sym, OrderRec)}


def make_market(tick: float, step: float, min_qty: float, min_notional: float) -> Market:
    return Market(tick, step, min_qty, min_notional, step_decimals(tick), step_decimals(step))


EMPTY_SYM: Final = Sym()
