"""Fold the journal's order/position/error events to reconstruct the moment of each kill-switch trip.

Pure: events in, snapshots out. `projections.audit` feeds it from the projection and
shapes the report. Position quantity comes from fills (signed: buy +, sell -) and is
reset by position_closed; the stop is the last stop_moved while the position is open.
A restart's reconcile_observed (what the exchange showed) overrides positions and open orders.
"""
from __future__ import annotations

from typing import Any

from journal.events import (EmergencyAction, ErrorObserved, Event, Halted, KillSwitchTripped, OrderAccepted,
                            OrderCanceled, OrderFilled, OrderRejected, OrderSubmitted, PositionClosed,
                            ReconcileObserved, Resumed, SessionStarted, StopMoved)
from projections.audit_state import FLAT_EPS, OPEN_STATUSES, SAFE_ACTIONS, OrderState, SymbolState, Trip

class AuditFold:
    """Apply events in seq order; `trips` collects a snapshot per trip and what followed it."""

    def __init__(self, default_window_sec: int = 60) -> None:
        self.default_window_sec = default_window_sec
        self.symbols: dict[str, SymbolState] = {}
        self.orders: dict[str, OrderState] = {}
        self.errors: list[dict[str, Any]] = []
        self.trips: list[Trip] = []
        self._wall = 0

    def _sym(self, symbol: str) -> SymbolState:
        return self.symbols.setdefault(symbol, SymbolState())

    def apply(self, seq: int, ev: Event, wall: int = 0) -> None:
        """`wall`: the record's recorded_at (wall ms), for durations as the operator lived them."""
        self._wall = wall
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
            case ReconcileObserved():
                self._reconcile(seq, ev)
        self._mark_flat(ev.ts)

    def _reconcile(self, seq: int, ev: ReconcileObserved) -> None:
        """The exchange's view at restart replaces ours: positions, and which orders are open."""
        held = {}
        for p in ev.positions:
            qty = float(p.get("qty") or 0.0)
            held[p["symbol"]] = qty if p.get("side") == "long" else -qty, float(p.get("entry_price") or 0.0)
        for symbol in set(self.symbols) | set(held):
            state = self._sym(symbol)
            qty, entry = held.get(symbol, (0.0, 0.0))
            state.qty, state.cost = qty, qty * entry
            if abs(qty) <= FLAT_EPS:
                state.stop = None
        listed = {o.get("client_id"): o for o in ev.open_orders}
        for client_id, order in self.orders.items():
            if order.status in OPEN_STATUSES and client_id not in listed:
                order.status = "gone"  # not open at the exchange any more
        for client_id, o in listed.items():
            if client_id not in self.orders:
                submitted = OrderSubmitted(ts=ev.ts, client_id=client_id, symbol=o["symbol"], side=o.get("side"),
                                           order_kind=o.get("order_kind"), qty=float(o.get("qty") or 0.0),
                                           purpose="reconcile", price=o.get("price"),
                                           stop_price=o.get("stop_price"),
                                           reduce_only=bool(o.get("reduce_only")))
                self.orders[client_id] = OrderState(submitted, seq, float(o.get("filled_qty") or 0.0), "accepted")

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
        self._sym(ev.symbol).apply_fill(ev.qty if ev.side == "buy" else -ev.qty, ev.price)

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
        return Trip(seq, ev, errors, symbols, orders, exposed, wall=self._wall)

    def _after_trip_action(self, seq: int, ev: EmergencyAction) -> None:
        if not self.trips:
            return
        trip = self.trips[-1]
        trip.actions.append({"seq": seq, "ts": ev.ts, "after_ms": ev.ts - trip.event.ts,
                             "after_wall_ms": self._wall - trip.wall, "policy": ev.policy,
                             "action": ev.action, "outcome": ev.outcome, "reason": ev.reason,
                             "symbol": ev.symbol, "trigger": ev.trigger})
        if ev.outcome == "done" and ev.action in SAFE_ACTIONS:
            for symbol in trip.exposed if ev.symbol is None else {ev.symbol} & trip.exposed:
                trip.safe_at.setdefault(symbol, (ev.ts, self._wall))

    def _after_trip_close(self, seq: int, ev: PositionClosed) -> None:
        if self.trips and ev.symbol in self.trips[-1].exposed:
            trip = self.trips[-1]
            trip.closes.append({"seq": seq, "ts": ev.ts, "after_ms": ev.ts - trip.event.ts,
                                "after_wall_ms": self._wall - trip.wall, "symbol": ev.symbol,
                                "qty": ev.qty, "exit_price": ev.exit_price, "pnl": ev.pnl, "reason": ev.reason})

    def _mark_flat(self, ts: int) -> None:
        if not self.trips:
            return
        trip = self.trips[-1]
        for symbol in trip.exposed - trip.safe_at.keys():
            if abs(self.symbols[symbol].qty) <= FLAT_EPS:
                trip.safe_at[symbol] = (ts, self._wall)
