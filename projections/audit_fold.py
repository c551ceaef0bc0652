"""Fold the journal's order/position/error events to reconstruct the moment of each kill-switch trip.

Pure: events in, snapshots out. `projections.audit` feeds it from the projection and
shapes the report. Position quantity comes from fills (signed: buy +, sell -) and is
reset by position_closed; the stop is the last stop_moved while the position is open.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journal.events import (EmergencyAction, ErrorObserved, Event, Halted, KillSwitchTripped, OrderAccepted,
                            OrderCanceled, OrderFilled, OrderRejected, OrderSubmitted, PositionClosed, Resumed,
                            SessionStarted, StopMoved)

FLAT_EPS = 1e-9
OPEN_STATUSES = ("submitted", "accepted", "partially_filled")
SAFE_ACTIONS = ("ensure_stop", "fallback_stop", "close")


@dataclass
class SymbolState:
    qty: float = 0.0  # signed: > 0 long, < 0 short
    cost: float = 0.0  # signed qty * price of the open position, for the average entry
    stop: float | None = None
    halted: bool = False

    def snapshot(self, symbol: str) -> dict[str, Any]:
        flat = abs(self.qty) <= FLAT_EPS
        return {"symbol": symbol, "side": "flat" if flat else ("long" if self.qty > 0 else "short"),
                "qty": 0.0 if flat else abs(self.qty), "entry_price": None if flat else self.cost / self.qty,
                "stop_price": None if flat else self.stop, "halted": self.halted}


@dataclass
class OrderState:
    submitted: OrderSubmitted
    seq: int
    filled: float = 0.0
    status: str = "submitted"
    fill_ids: set[str] = field(default_factory=set)

    def snapshot(self) -> dict[str, Any]:
        o = self.submitted
        return {"seq": self.seq, "client_id": o.client_id, "symbol": o.symbol, "side": o.side,
                "kind": o.order_kind, "purpose": o.purpose, "qty": o.qty, "filled_qty": self.filled,
                "price": o.price, "stop_price": o.stop_price, "reduce_only": o.reduce_only, "status": self.status}


@dataclass
class Trip:
    seq: int
    event: KillSwitchTripped
    errors: list[dict[str, Any]]
    symbols: list[dict[str, Any]]
    open_orders: list[dict[str, Any]]
    exposed: set[str]  # symbols with a position at the trip
    actions: list[dict[str, Any]] = field(default_factory=list)
    closes: list[dict[str, Any]] = field(default_factory=list)
    safe_at: dict[str, int] = field(default_factory=dict)  # symbol -> ts it became flat or protected


class AuditFold:
    """Apply events in seq order; `trips` collects a snapshot per trip and what followed it."""

    def __init__(self, default_window_sec: int = 60) -> None:
        self.default_window_sec = default_window_sec
        self.symbols: dict[str, SymbolState] = {}
        self.orders: dict[str, OrderState] = {}
        self.errors: list[dict[str, Any]] = []
        self.trips: list[Trip] = []

    def _sym(self, symbol: str) -> SymbolState:
        return self.symbols.setdefault(symbol, SymbolState())

    def apply(self, seq: int, ev: Event) -> None:
        match ev:
            case SessionStarted():
                for symbol in ev.symbols:
                    self._sym(symbol)
            case OrderSubmitted():
                self._sym(ev.symbol)
                self.orders.setdefault(ev.client_id, OrderState(ev, seq))
            case OrderAccepted():
                self._set_status(ev.client_id, "accepted", only_from=("submitted",))
            case OrderRejected():
                self._set_status(ev.client_id, "rejected", only_from=OPEN_STATUSES)
            case OrderCanceled():
                self._set_status(ev.client_id, "canceled", only_from=OPEN_STATUSES)
            case OrderFilled():
                self._fill(ev)
            case StopMoved():
                self._sym(ev.symbol).stop = ev.stop_price
            case PositionClosed():
                self.symbols[ev.symbol] = SymbolState(halted=self._sym(ev.symbol).halted)
                self._after_trip_close(seq, ev)
            case Halted() | Resumed():
                targets = [ev.symbol] if ev.symbol else list(self.symbols)
                for symbol in targets:
                    self._sym(symbol).halted = isinstance(ev, Halted)
            case ErrorObserved():
                self.errors.append({"seq": seq, "ts": ev.ts, "reason": ev.reason, "source": ev.source,
                                    "code": ev.code, "message": ev.message, "symbol": ev.symbol})
            case KillSwitchTripped():
                self.trips.append(self._snapshot(seq, ev))
            case EmergencyAction():
                self._after_trip_action(seq, ev)
        self._mark_flat(ev.ts)

    def _set_status(self, client_id: str, status: str, only_from: tuple[str, ...]) -> None:
        order = self.orders.get(client_id)
        if order is not None and order.status in only_from:
            order.status = status

    def _fill(self, ev: OrderFilled) -> None:
        order = self.orders.get(ev.client_id)
        if order is not None:
            if ev.fill_id in order.fill_ids:
                return  # a fill reported twice is applied once
            order.fill_ids.add(ev.fill_id)
            order.filled += ev.qty
            full = order.filled >= order.submitted.qty * (1 - FLAT_EPS)
            order.status = "filled" if full else "partially_filled"
        pos = self._sym(ev.symbol)
        signed = ev.qty if ev.side == "buy" else -ev.qty
        new_qty = pos.qty + signed
        if pos.qty == 0 or (pos.qty > 0) == (signed > 0):
            pos.cost += signed * ev.price  # open or add
        elif abs(new_qty) > FLAT_EPS and (new_qty > 0) == (pos.qty > 0):
            pos.cost *= new_qty / pos.qty  # partial reduce keeps the average entry
        else:
            pos.cost = new_qty * ev.price  # closed or flipped
        pos.qty = new_qty
        if abs(pos.qty) <= FLAT_EPS:
            pos.qty, pos.cost, pos.stop = 0.0, 0.0, None

    def _snapshot(self, seq: int, ev: KillSwitchTripped) -> Trip:
        if ev.error_seqs:
            wanted = set(ev.error_seqs)
            errors = [e for e in self.errors if e["seq"] in wanted]
        else:
            since = ev.ts - 1000 * (ev.window_sec or self.default_window_sec)
            errors = [e for e in self.errors if since <= e["ts"] <= ev.ts]
        symbols = [state.snapshot(name) for name, state in sorted(self.symbols.items())]
        orders = [o.snapshot() for o in self.orders.values() if o.status in OPEN_STATUSES]
        exposed = {s["symbol"] for s in symbols if s["side"] != "flat"}
        return Trip(seq, ev, errors, symbols, orders, exposed)

    def _after_trip_action(self, seq: int, ev: EmergencyAction) -> None:
        if not self.trips:
            return
        trip = self.trips[-1]
        trip.actions.append({"seq": seq, "ts": ev.ts, "after_ms": ev.ts - trip.event.ts, "policy": ev.policy,
                             "action": ev.action, "outcome": ev.outcome, "reason": ev.reason,
                             "symbol": ev.symbol, "trigger": ev.trigger})
        if ev.outcome == "done" and ev.action in SAFE_ACTIONS:
            for symbol in trip.exposed if ev.symbol is None else {ev.symbol} & trip.exposed:
                trip.safe_at.setdefault(symbol, ev.ts)

    def _after_trip_close(self, seq: int, ev: PositionClosed) -> None:
        if self.trips and ev.symbol in self.trips[-1].exposed:
            trip = self.trips[-1]
            trip.closes.append({"seq": seq, "ts": ev.ts, "after_ms": ev.ts - trip.event.ts, "symbol": ev.symbol,
                                "qty": ev.qty, "exit_price": ev.exit_price, "pnl": ev.pnl, "reason": ev.reason})

    def _mark_flat(self, ts: int) -> None:
        if not self.trips:
            return
        trip = self.trips[-1]
        for symbol in trip.exposed - trip.safe_at.keys():
            if abs(self.symbols[symbol].qty) <= FLAT_EPS:
                trip.safe_at[symbol] = ts
