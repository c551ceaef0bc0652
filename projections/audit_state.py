"""What the kill-switch audit tracks per symbol, per order and per trip (plain mutable records)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journal.events import KillSwitchTripped, OrderSubmitted

FLAT_EPS = 1e-9
OPEN_STATUSES = ("submitted", "accepted", "partially_filled")
SAFE_ACTIONS = ("ensure_stop", "fallback_stop", "close")


@dataclass
class SymbolState:
    qty: float = 0.0  # signed: > 0 long, < 0 short
    cost: float = 0.0  # signed qty * price of the open position, for the average entry
    stop: float | None = None
    halted: bool = False

    def apply_fill(self, signed: float, price: float) -> None:
        """Signed fill (buy +, sell -): average entry kept on adds and partial reduces."""
        new_qty = self.qty + signed
        if self.qty == 0 or (self.qty > 0) == (signed > 0):
            self.cost += signed * price  # open or add
        elif abs(new_qty) > FLAT_EPS and (new_qty > 0) == (self.qty > 0):
            self.cost *= new_qty / self.qty  # partial reduce keeps the average entry
        else:
            self.cost = new_qty * price  # closed or flipped
        self.qty = new_qty
        if abs(self.qty) <= FLAT_EPS:
            self.qty, self.cost, self.stop = 0.0, 0.0, None

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
    wall: int = 0  # recorded_at of the trip record (wall clock ms)
    safe_at: dict[str, tuple[int, int]] = field(default_factory=dict)  # symbol -> (ts, wall) flat or protected
