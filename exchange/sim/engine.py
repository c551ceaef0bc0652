"""The matching engine on replayed candles (same rules as the paper exchange).

- Market orders fill at the open of the forming bar (the next price after the last
  closed bar); the fill time is that bar's open time.
- Conditional (algo) orders and resting limits are checked when a bar closes, against
  its [low, high]: the fill is at the trigger, or at the bar's open when it gapped
  through. Inside one bar stops go before take-profits, then limits.
- A partially filled market order (`partial_fill` fault) fills its rest at the next
  bar's open. Funding is charged at 00/08/16 UTC bar opens. Fees: one taker rate.
"""
from __future__ import annotations

from exchange.sim.clock import MarketClock
from exchange.sim.data import Series
from exchange.sim.ledger import DUST, Ledger
from exchange.sim.markets import rules_for
from exchange.sim.orders import SimOrder
from exchange.sim.signing import ApiError

FUNDING_EVERY_MS = 8 * 3_600_000
TRIGGER_ORDER = {"STOP_MARKET": 0, "TAKE_PROFIT_MARKET": 1, "LIMIT": 2}


def trigger_fill_price(order: SimOrder, bar_open: float, high: float, low: float) -> float | None:
    """Where a resting order fills inside a bar, or None if the bar never reached it."""
    level = order.price if order.type == "LIMIT" else order.stop_price
    rises = order.side == "BUY" if order.type == "STOP_MARKET" else order.side == "SELL"
    if rises:
        return max(level, bar_open) if high >= level else None
    return min(level, bar_open) if low <= level else None


class Engine:
    def __init__(self, series: dict[str, Series], clock: MarketClock, wallet: float = 10_000.0,
                 fee_rate: float = 0.0005, funding_rate: float = 0.0001) -> None:
        self.series = series
        self.clock = clock
        self.ledger = Ledger(wallet=wallet, fee_rate=fee_rate)
        self.funding_rate = funding_rate
        self.orders: dict[int, SimOrder] = {}
        self.algos: dict[int, SimOrder] = {}
        self._next_id = 1_000_000
        self.forming = clock.forming_open_ms()

    # ------------------------------------------------------------------ prices

    def _series(self, symbol: str) -> Series:
        if symbol not in self.series:
            raise ApiError(400, -1121, "Invalid symbol.")
        return self.series[symbol]

    def bar(self, symbol: str, open_ms: int) -> int | None:
        series = self._series(symbol)
        idx = series.index_at(open_ms)
        return idx if idx >= 0 and series.ts[idx] == open_ms else None

    def price(self, symbol: str) -> float:
        """The current price: the open of the forming bar."""
        idx = self.bar(symbol, self.forming)
        if idx is None:
            raise ApiError(400, -4131, "sim: no market data at the simulated time.")
        return float(self._series(symbol).open[idx])

    def marks(self) -> dict[str, float]:
        marks = {}
        for symbol in self.series:
            idx = self.bar(symbol, self.forming)
            if idx is not None:
                marks[symbol] = float(self.series[symbol].open[idx])
        return marks

    # ------------------------------------------------------------------ time

    def sync(self) -> None:
        """Close every bar the market clock has moved past, in order."""
        target = self.clock.forming_open_ms()
        while self.forming < target:
            closed = self.forming
            for symbol in self.series:
                self._close_bar(symbol, closed)
            self.forming = closed + self.clock.bar_ms
            for symbol in self.series:
                self._open_bar(symbol, self.forming)

    def _close_bar(self, symbol: str, open_ms: int) -> None:
        idx = self.bar(symbol, open_ms)
        if idx is None:
            return
        s = self.series[symbol]
        resting = [o for o in (*self.algos.values(), *self.orders.values())
                   if o.symbol == symbol and o.is_open and o.type in TRIGGER_ORDER and o.time < open_ms + self.clock.bar_ms]
        resting.sort(key=lambda o: (TRIGGER_ORDER[o.type], o.time, o.order_id))
        stop_fired = False
        for order in resting:
            if not order.is_open or (stop_fired and not (order.reduce_only or order.close_position)):
                continue  # the stop wins: nothing adds exposure in the bar a protective stop filled
            price = trigger_fill_price(order, float(s.open[idx]), float(s.high[idx]), float(s.low[idx]))
            if price is not None:
                held = self.ledger.position(symbol).qty
                self._trigger(order, price, open_ms)
                reduced = abs(self.ledger.position(symbol).qty) < abs(held) - DUST
                stop_fired = stop_fired or (order.type == "STOP_MARKET" and reduced)

    def _open_bar(self, symbol: str, open_ms: int) -> None:
        idx = self.bar(symbol, open_ms)
        if idx is None:
            return
        price = float(self.series[symbol].open[idx])
        for order in [o for o in self.orders.values() if o.symbol == symbol and o.pending_qty > DUST]:
            qty, order.pending_qty = order.pending_qty, 0.0
            self._execute(order, qty, price, open_ms)
        if open_ms % FUNDING_EVERY_MS == 0:
            self.ledger.apply_funding(symbol, price, self.funding_rate, open_ms)

    def _trigger(self, order: SimOrder, price: float, time: int) -> None:
        if order.type == "LIMIT":
            self._execute(order, self._executable(order, order.qty - order.executed), price, time)
            return
        qty = self._executable(order, order.qty)
        order.update_time = time
        if qty <= DUST:
            order.status = "EXPIRED"  # reduce-only with nothing left to reduce
            return
        market = self._new_order(order.symbol, order.side, "MARKET", qty, order.client_id, time,
                                 reduce_only=order.reduce_only)
        self._execute(market, qty, price, time)
        order.status, order.actual_order_id, order.actual_price = "FINISHED", market.order_id, price
        order.executed = qty

    def _executable(self, order: SimOrder, qty: float) -> float:
        if not (order.reduce_only or order.close_position):
            return qty
        held = self.ledger.position(order.symbol).qty
        opposite = held < -DUST if order.side == "BUY" else held > DUST
        if not opposite:
            return 0.0
        return abs(held) if order.close_position else min(qty, abs(held))

    def _execute(self, order: SimOrder, qty: float, price: float, time: int) -> None:
        held = self.ledger.position(order.symbol).qty
        trade = self.ledger.fill(order.order_id, order.symbol, order.side, qty, price, time)
        order.record(trade)
        after = self.ledger.position(order.symbol).qty
        if abs(held) > DUST and (abs(after) <= DUST or (held > 0) != (after > 0)):
            self._expire_reduce_only(order.symbol, time)

    def _expire_reduce_only(self, symbol: str, time: int) -> None:
        """The position closed or flipped: its reduce-only orders can never execute (Binance expires them)."""
        for other in (*self.orders.values(), *self.algos.values()):
            if other.symbol == symbol and other.is_open and other.reduce_only and other.pending_qty <= DUST:
                other.status, other.update_time = "EXPIRED", time

    def _new_order(self, symbol: str, side: str, type_: str, qty: float, client_id: str, time: int,
                   **extra) -> SimOrder:
        self._next_id += 1
        order = SimOrder(order_id=self._next_id, client_id=client_id, symbol=symbol, side=side, type=type_,
                         qty=qty, time=time, **extra)
        (self.algos if order.algo else self.orders)[order.order_id] = order
        return order

    # ------------------------------------------------------------------ checks

    def check_new(self, symbol: str, side: str, qty: float, price: float, reduce_only: bool) -> None:
        rules = rules_for(symbol)
        if qty <= 0:
            raise ApiError(400, -4003, "Quantity less than or equal to zero.")
        if reduce_only:
            return
        if qty * price < rules.min_notional - 1e-9:
            raise ApiError(400, -4164, f"Order's notional must be no smaller than {rules.min_notional:g} "
                                       "(unless you choose reduce only).")
        required = qty * price / self.ledger.leverage_of(symbol) + qty * price * self.ledger.fee_rate
        if required > self.ledger.available(self.marks()) + 1e-9:
            raise ApiError(400, -2019, "Margin is insufficient.")
