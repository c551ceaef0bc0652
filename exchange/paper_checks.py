"""Why the paper venue refuses an order, with Binance's codes (pure: no state, no I/O)."""
from __future__ import annotations

import math

from exchange.paper_fills import CONDITIONAL_KINDS, EVALUATION_ORDER, trigger_level, would_trigger_now
from exchange.paper_markets import MarketRules
from exchange.paper_state import PaperOrder

Refusal = tuple[str, int, str]  # (reason, venue code, message)


def refusal_of(order: PaperOrder, rules: MarketRules | None, last_price: float | None) -> Refusal | None:
    """None when the venue accepts the order, else why not (first problem wins)."""
    if rules is None:
        return "unknown_symbol", -1121, f"{order.symbol} not loaded"
    if order.order_kind not in EVALUATION_ORDER:
        return "invalid_kind", -1116, order.order_kind
    if not (math.isfinite(order.qty) and order.qty > 0):
        return "invalid_qty", -4003, f"qty {order.qty}"
    conditional = order.order_kind in CONDITIONAL_KINDS
    level = trigger_level(order)
    if conditional and not (level is not None and math.isfinite(level) and level > 0):
        return "invalid_price", -4014, f"{order.order_kind} needs a positive price"
    if last_price is not None and would_trigger_now(order, last_price):
        return "would_trigger", -2021, f"order would immediately trigger (last {last_price})"
    reference = level if conditional else last_price
    if not order.reduce_only and reference is not None and order.qty * reference < rules.min_notional:
        return "min_notional", -4164, f"notional {order.qty * reference:.2f} < {rules.min_notional}"
    return None
