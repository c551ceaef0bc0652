"""Wallet, positions (one-way mode) and the trade tape of the sim account."""
from __future__ import annotations

from dataclasses import dataclass, field

DUST = 1e-12


@dataclass
class Position:
    qty: float = 0.0  # signed: > 0 long, < 0 short
    entry_price: float = 0.0
    update_time: int = 0


@dataclass(frozen=True)
class Trade:
    trade_id: int
    order_id: int
    symbol: str
    side: str  # BUY | SELL
    price: float
    qty: float
    commission: float
    realized_pnl: float
    time: int


@dataclass
class Ledger:
    wallet: float
    fee_rate: float = 0.0005
    leverage: dict[str, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    funding: list[dict] = field(default_factory=list)

    def position(self, symbol: str) -> Position:
        return self.positions.setdefault(symbol, Position())

    def leverage_of(self, symbol: str) -> int:
        return self.leverage.get(symbol, 20)

    def unrealized(self, marks: dict[str, float]) -> float:
        return sum(p.qty * (marks[s] - p.entry_price) for s, p in self.positions.items() if s in marks)

    def initial_margin(self, marks: dict[str, float]) -> float:
        return sum(abs(p.qty) * marks[s] / self.leverage_of(s) for s, p in self.positions.items() if s in marks)

    def available(self, marks: dict[str, float]) -> float:
        return self.wallet + self.unrealized(marks) - self.initial_margin(marks)

    def fill(self, order_id: int, symbol: str, side: str, qty: float, price: float, time: int) -> Trade:
        """Apply one execution: position, realized pnl, taker fee; append it to the tape."""
        pos = self.position(symbol)
        delta = qty if side == "BUY" else -qty
        realized = 0.0
        if abs(pos.qty) <= DUST or (pos.qty > 0) == (delta > 0):
            size = abs(pos.qty) + qty
            pos.entry_price = (abs(pos.qty) * pos.entry_price + qty * price) / size
            pos.qty += delta
        else:
            closing = min(qty, abs(pos.qty))
            direction = 1.0 if pos.qty > 0 else -1.0
            realized = closing * (price - pos.entry_price) * direction
            remaining = qty - closing
            if remaining > DUST:
                pos.qty, pos.entry_price = -direction * remaining, price
            else:
                pos.qty += delta
                if abs(pos.qty) <= DUST:
                    pos.qty, pos.entry_price = 0.0, 0.0
        pos.update_time = time
        commission = qty * price * self.fee_rate
        self.wallet += realized - commission
        trade = Trade(len(self.trades) + 1, order_id, symbol, side, price, qty, commission, realized, time)
        self.trades.append(trade)
        return trade

    def apply_funding(self, symbol: str, mark: float, rate: float, time: int) -> None:
        """Longs pay shorts when the rate is positive (Binance's sign convention)."""
        pos = self.positions.get(symbol)
        if pos is None or abs(pos.qty) <= DUST:
            return
        payment = -pos.qty * mark * rate
        self.wallet += payment
        self.funding.append({"symbol": symbol, "income": payment, "time": time, "rate": rate})
