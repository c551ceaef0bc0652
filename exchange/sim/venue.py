"""The trading endpoints' logic on top of the engine: place, cancel, query, list.

Parameters arrive as Binance sends them (strings); answers are Binance JSON shapes.
As on Binance, a client id only has to be unique among OPEN orders (-4116): the id of a
filled or canceled order can be used again, so only "look it up by client id before
placing" keeps a resend from placing twice. A lookup by client id finds the newest order.
"""
from __future__ import annotations

from collections import Counter

from exchange.sim.engine import Engine
from exchange.sim.filters import check_price, check_quantity
from exchange.sim.ledger import DUST
from exchange.sim.markets import rules_for
from exchange.sim.orders import SimOrder, algo_view, fmt, order_view, trade_view
from exchange.sim.signing import ApiError

PLAIN_TYPES = ("MARKET", "LIMIT")
ALGO_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")


def _flag(params: dict, key: str) -> bool:
    return str(params.get(key, "false")).lower() == "true"


def _number(params: dict, key: str, required: bool = True) -> float:
    value = params.get(key)
    if value in (None, ""):
        if required:
            raise ApiError(400, -1102, f"Mandatory parameter '{key}' was not sent, was empty/null, or malformed.")
        return 0.0
    try:
        return float(value)
    except ValueError:
        raise ApiError(400, -1100, f"Illegal characters found in parameter '{key}'.") from None


class Venue(Engine):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.placements: Counter[str] = Counter()

    @property
    def duplicate_placements(self) -> int:
        """Placement attempts beyond the first per client id (what "never twice" must keep at 0)."""
        return sum(n - 1 for n in self.placements.values() if n > 1)

    def _check_side(self, params: dict) -> str:
        side = params.get("side", "")
        if side not in ("BUY", "SELL"):
            raise ApiError(400, -1117, "Invalid side.")
        return side

    def _find(self, book: dict[int, SimOrder], symbol: str, order_id: str | None, client_id: str | None) -> SimOrder:
        for order in reversed(book.values()):
            if order.symbol != symbol:
                continue
            if (order_id and str(order.order_id) == order_id) or (client_id and order.client_id == client_id):
                return order
        raise ApiError(400, -2013, "Order does not exist.")

    def _check_client_id(self, book: dict[int, SimOrder], client_id: str) -> None:
        """Count every placement attempt that reached the engine (duplicates show up here);
        refuse an id in use by an open order (Binance: "unique among open orders")."""
        self.placements[client_id] += 1
        if any(o.client_id == client_id and o.is_open for o in book.values()):
            raise ApiError(400, -4116, "ClientOrderId is duplicated.")

    def place_order(self, params: dict, partial: bool = False) -> dict:
        symbol = params.get("symbol", "")
        self._series(symbol)
        side, type_ = self._check_side(params), params.get("type", "")
        if type_ not in PLAIN_TYPES:
            raise ApiError(400, -1116, "Invalid orderType.")
        qty = _number(params, "quantity")
        check_quantity(params["quantity"], rules_for(symbol), market=type_ == "MARKET")
        if type_ == "LIMIT":
            check_price(params.get("price", ""), rules_for(symbol))
        client_id = params.get("newClientOrderId") or f"sim-{self._next_id + 1}"
        self._check_client_id(self.orders, client_id)
        reduce_only = _flag(params, "reduceOnly")
        now, market_price = self.clock.now_ms(), self.price(symbol)
        limit = _number(params, "price") if type_ == "LIMIT" else 0.0
        self.check_new(symbol, side, qty, limit or market_price, reduce_only)
        order = self._new_order(symbol, side, type_, qty, client_id, now, price=limit, reduce_only=reduce_only)
        marketable = type_ == "MARKET" or (limit >= market_price if side == "BUY" else limit <= market_price)
        if marketable:
            executable = self._executable(order, qty)
            if executable <= DUST:
                del self.orders[order.order_id]
                raise ApiError(400, -2022, "ReduceOnly Order is rejected.")
            if partial and type_ == "MARKET":
                step = rules_for(symbol).step_size
                first = max(step, round(executable / 2 / step) * step)
                if first < executable - DUST:
                    order.pending_qty = executable - first
                    executable = first
            self._execute(order, executable, market_price, self.forming)  # a marketable limit gets the market
            if order.executed < order.qty - DUST and not order.pending_qty and type_ == "MARKET":
                order.status = "EXPIRED"  # reduce-only remainder beyond the position
        return order_view(order)

    def place_algo(self, params: dict) -> dict:
        symbol = params.get("symbol", "")
        self._series(symbol)
        side, type_ = self._check_side(params), params.get("type", "")
        if params.get("algoType") != "CONDITIONAL" or type_ not in ALGO_TYPES:
            raise ApiError(400, -1116, "Invalid orderType.")
        close_position = _flag(params, "closePosition")
        qty = _number(params, "quantity", required=not close_position)
        trigger = _number(params, "triggerPrice")
        if not close_position:
            check_quantity(params["quantity"], rules_for(symbol), market=True)
        check_price(params["triggerPrice"], rules_for(symbol), "triggerPrice")
        client_id = params.get("clientAlgoId") or f"sim-{self._next_id + 1}"
        self._check_client_id(self.algos, client_id)
        price = self.price(symbol)
        rises = side == "BUY" if type_ == "STOP_MARKET" else side == "SELL"
        if (price >= trigger) if rises else (price <= trigger):
            raise ApiError(400, -2021, "Order would immediately trigger.")
        reduce_only = _flag(params, "reduceOnly")
        if not (reduce_only or close_position):
            self.check_new(symbol, side, qty, trigger, False)
        order = self._new_order(symbol, side, type_, qty, client_id, self.clock.now_ms(), stop_price=trigger,
                                reduce_only=reduce_only, close_position=close_position, algo=True)
        return algo_view(order)

    def cancel(self, params: dict, algo: bool) -> dict:
        book = self.algos if algo else self.orders
        order = self._find(book, params.get("symbol", ""), params.get("algoId" if algo else "orderId"),
                           params.get("clientAlgoId" if algo else "origClientOrderId"))
        if not order.is_open:
            raise ApiError(400, -2011, "Unknown order sent.")
        order.status, order.pending_qty, order.update_time = "CANCELED", 0.0, self.clock.now_ms()
        return algo_view(order) if algo else order_view(order)

    def cancel_all_algos(self, symbol: str) -> dict:
        for order in self.algos.values():
            if order.symbol == symbol and order.is_open:
                order.status, order.update_time = "CANCELED", self.clock.now_ms()
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def query(self, params: dict, algo: bool) -> dict:
        book = self.algos if algo else self.orders
        order = self._find(book, params.get("symbol", ""), params.get("algoId" if algo else "orderId"),
                           params.get("clientAlgoId" if algo else "origClientOrderId"))
        return algo_view(order) if algo else order_view(order)

    def open_orders(self, symbol: str | None, algo: bool) -> list[dict]:
        book = self.algos if algo else self.orders
        view = algo_view if algo else order_view
        return [view(o) for o in book.values() if o.is_open and (not symbol or o.symbol == symbol)]

    def all_orders(self, symbol: str, algo: bool) -> list[dict]:
        book = self.algos if algo else self.orders
        view = algo_view if algo else order_view
        return [view(o) for o in book.values() if o.symbol == symbol]

    def user_trades(self, params: dict) -> list[dict]:
        symbol = params.get("symbol", "")
        self._series(symbol)
        order_id, from_id = params.get("orderId"), int(params.get("fromId") or 0)
        start, end = int(params.get("startTime") or 0), int(params.get("endTime") or 2**62)
        limit = min(int(params.get("limit") or 500), 1000)
        rows = [t for t in self.ledger.trades if t.symbol == symbol and t.trade_id >= from_id
                and start <= t.time <= end and (not order_id or str(t.order_id) == order_id)]
        return [trade_view(t) for t in rows[-limit:]] if not from_id else [trade_view(t) for t in rows[:limit]]

    def set_leverage(self, params: dict) -> dict:
        symbol = params.get("symbol", "")
        self._series(symbol)
        leverage = int(_number(params, "leverage"))
        if not 1 <= leverage <= 125:
            raise ApiError(400, -4028, "Leverage is not valid.")
        self.ledger.leverage[symbol] = leverage
        return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": symbol}

    def fmt(self, value: float) -> str:
        return fmt(value)
