"""Sim orders and their JSON shapes (what /fapi/v1/order and /fapi/v1/algoOrder answer)."""
from __future__ import annotations

from dataclasses import dataclass

from exchange.sim.ledger import Trade

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")


def fmt(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") or "0"


@dataclass
class SimOrder:
    order_id: int
    client_id: str
    symbol: str
    side: str  # BUY | SELL
    type: str  # MARKET | LIMIT | STOP_MARKET | TAKE_PROFIT_MARKET
    qty: float
    time: int
    price: float = 0.0
    stop_price: float = 0.0
    reduce_only: bool = False
    close_position: bool = False
    algo: bool = False
    status: str = "NEW"
    executed: float = 0.0
    cum_quote: float = 0.0
    update_time: int = 0
    pending_qty: float = 0.0  # the rest of a partially filled market order (fills at the next bar's open)
    actual_order_id: int = 0
    actual_price: float = 0.0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def record(self, trade: Trade) -> None:
        self.executed += trade.qty
        self.cum_quote += trade.qty * trade.price
        self.update_time = trade.time
        self.status = "FILLED" if self.executed >= self.qty - 1e-12 else "PARTIALLY_FILLED"

    @property
    def avg_price(self) -> float:
        return self.cum_quote / self.executed if self.executed else 0.0


def order_view(order: SimOrder) -> dict:
    return {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": order.status,
        "clientOrderId": order.client_id,
        "price": fmt(order.price),
        "avgPrice": fmt(order.avg_price),
        "origQty": fmt(order.qty),
        "executedQty": fmt(order.executed),
        "cumQty": fmt(order.executed),
        "cumQuote": fmt(order.cum_quote),
        "timeInForce": "GTC",
        "type": order.type,
        "reduceOnly": order.reduce_only,
        "closePosition": order.close_position,
        "side": order.side,
        "positionSide": "BOTH",
        "stopPrice": fmt(order.stop_price),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": order.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": order.time,
        "updateTime": order.update_time or order.time,
    }


def algo_view(order: SimOrder) -> dict:
    return {
        "algoId": order.order_id,
        "clientAlgoId": order.client_id,
        "algoType": "CONDITIONAL",
        "orderType": order.type,
        "symbol": order.symbol,
        "side": order.side,
        "positionSide": "BOTH",
        "timeInForce": "GTC",
        "quantity": fmt(order.qty),
        "executedQty": fmt(order.executed),
        "algoStatus": order.status,
        "actualOrderId": str(order.actual_order_id) if order.actual_order_id else "",
        "actualPrice": fmt(order.actual_price),
        "triggerPrice": fmt(order.stop_price),
        "price": fmt(order.price),
        "icebergQuantity": None,
        "tpTriggerPrice": "0.000",
        "tpPrice": "0.000",
        "slTriggerPrice": "0.000",
        "slPrice": "0.000",
        "tpOrderType": "",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE",
        "closePosition": order.close_position,
        "priceProtect": False,
        "reduceOnly": order.reduce_only,
        "createTime": order.time,
        "updateTime": order.update_time or order.time,
        "triggerTime": order.update_time if order.status == "FINISHED" else 0,
        "goodTillDate": 0,
    }


def trade_view(trade: Trade) -> dict:
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "side": trade.side,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "realizedPnl": fmt(trade.realized_pnl),
        "quoteQty": fmt(trade.qty * trade.price),
        "commission": fmt(trade.commission),
        "commissionAsset": "USDT",
        "time": trade.time,
        "positionSide": "BOTH",
        "buyer": trade.side == "BUY",
        "maker": False,
    }
