"""OrderSubmitted -> ccxt create_order arguments, and ccxt order/trade dicts -> our types.

Conditional kinds go to Binance's algo service (ccxt routes any `stopPrice` there);
their client id travels as `clientAlgoId`, plain orders' as `newClientOrderId`.
"""
from __future__ import annotations

from typing import Any

from exchange.binance_symbols import to_config, to_unified
from exchange.port import OrderStatus
from journal.events import OrderFilled, OrderSubmitted

CONDITIONAL = ("stop_market", "take_profit_market")
STATUS = {"open": "open", "closed": "filled", "canceled": "canceled", "rejected": "rejected", "expired": "expired"}
KINDS = {"market": "market", "limit": "limit", "stop_market": "stop_market", "take_profit_market": "take_profit_market"}


def is_conditional(order: OrderSubmitted) -> bool:
    return order.order_kind in CONDITIONAL


def create_args(order: OrderSubmitted) -> tuple[str, str, str, float, float | None, dict[str, Any]]:
    """(symbol, type, side, amount, price, params) for ccxt.create_order."""
    params: dict[str, Any] = {"clientOrderId": order.client_id}
    if order.reduce_only:
        params["reduceOnly"] = True
    price = order.price if order.order_kind == "limit" else None
    if order.order_kind == "stop_market":
        params["stopLossPrice"] = order.stop_price
    elif order.order_kind == "take_profit_market":
        params["takeProfitPrice"] = order.stop_price if order.stop_price is not None else order.price
    kind = "limit" if order.order_kind == "limit" else "market"
    return to_unified(order.symbol), kind, order.side, order.qty, price, params


def lookup_params(client_id: str, conditional: bool) -> dict[str, Any]:
    if conditional:
        return {"clientAlgoId": client_id, "trigger": True}
    return {"origClientOrderId": client_id}


def _kind(raw: dict) -> str:
    info = raw.get("info") or {}
    venue_type = str(info.get("type") or info.get("orderType") or raw.get("type") or "market").lower()
    return KINDS.get(venue_type, "market")


def order_status(raw: dict) -> OrderStatus:
    info = raw.get("info") or {}
    trigger = raw.get("triggerPrice")
    return OrderStatus(
        client_id=str(raw.get("clientOrderId") or ""),
        symbol=to_config(str(raw.get("symbol") or "")),
        side=str(raw.get("side") or ""),
        order_kind=_kind(raw),
        qty=float(raw.get("amount") or 0.0),
        filled_qty=float(raw.get("filled") or 0.0),
        status=STATUS.get(str(raw.get("status")), str(raw.get("status"))),
        stop_price=float(trigger) if trigger else None,
        price=float(raw["price"]) if raw.get("price") else None,
        avg_price=float(raw["average"]) if raw.get("average") else None,
        reduce_only=bool(raw.get("reduceOnly") or info.get("reduceOnly") in (True, "true")),
    )


def fill_event(trade: dict, client_id: str, order: OrderSubmitted | None, cum_qty: float) -> OrderFilled:
    """One venue trade as a fill; fill_id is the venue's per-symbol trade id."""
    fee = trade.get("fee") or {}
    info = trade.get("info") or {}
    return OrderFilled(
        ts=int(trade["timestamp"]),
        client_id=client_id,
        symbol=to_config(str(trade["symbol"])),
        fill_id=f"{info.get('symbol', '')}:{trade['id']}",
        side=trade["side"],
        qty=float(trade["amount"]),
        price=float(trade["price"]),
        fee=float(fee.get("cost") or 0.0),
        fee_asset=str(fee.get("currency") or "USDT"),
        purpose=order.purpose if order else "reconcile",
        cum_qty=cum_qty,
        order_qty=order.qty if order else None,
    )
