"""Pure pricing and position arithmetic of the paper venue (no state, no I/O).

Conditional orders trigger inside a bar's [low, high]; the fill is at the order's
price, or at the bar's open when the bar opened beyond it (a gap fills at the first
price that existed). Slippage then moves the price against the taker: a buy pays more.
"""
from __future__ import annotations

from exchange.paper_state import DUST, PaperOrder, PaperPosition
from machine.rounding import round_to

CONDITIONAL_KINDS = ("stop_market", "take_profit_market", "limit")
QTY_DECIMALS = 9
"""Decimal places a position's quantity is kept to (finer than any USDⓈ-M step; the core's own precision)."""
EVALUATION_ORDER = {"market": 0, "stop_market": 1, "take_profit_market": 2, "limit": 3}
"""Inside one bar: market orders at the open, then stops before take-profits (conservative)."""


def slipped(price: float, side: str, slippage_bps: float) -> float:
    """The taker's price after slippage: buys pay more, sells receive less."""
    if slippage_bps == 0.0:
        return price
    factor = slippage_bps / 10_000.0
    return price * (1.0 + factor) if side == "buy" else price * (1.0 - factor)


def trigger_level(order: PaperOrder) -> float | None:
    """The price a conditional order waits for (take-profits may carry it in either field)."""
    if order.order_kind == "limit":
        return order.price
    return order.stop_price if order.stop_price is not None else order.price


def rises_to_trigger(order: PaperOrder) -> bool:
    """True when the order waits for the price to rise to its level (buy stop, sell TP/limit)."""
    if order.order_kind == "stop_market":
        return order.side == "buy"
    return order.side == "sell"


def would_trigger_now(order: PaperOrder, price: float) -> bool:
    """A stop or take-profit already beyond the current price (Binance rejects it: -2021)."""
    level = trigger_level(order)
    if order.order_kind not in ("stop_market", "take_profit_market") or level is None:
        return False
    return price >= level if rises_to_trigger(order) else price <= level


def conditional_fill_price(order: PaperOrder, bar_open: float, high: float, low: float) -> float | None:
    """Where a conditional order fills inside this bar, or None when the bar never reached it.

    The result always lies in [low, high]: the level when the bar traded through it,
    the open when the bar opened beyond it."""
    level = trigger_level(order)
    if level is None:
        return None
    if rises_to_trigger(order):
        return max(level, bar_open) if high >= level else None
    return min(level, bar_open) if low <= level else None


def reducible_qty(position: PaperPosition, side: str, qty: float) -> float:
    """How much of a reduce-only order can execute without flipping the position."""
    if side == "buy" and position.qty < -DUST:
        return min(qty, -position.qty)
    if side == "sell" and position.qty > DUST:
        return min(qty, position.qty)
    return 0.0


def apply_fill(position: PaperPosition, side: str, qty: float, price: float) -> tuple[PaperPosition, float]:
    """The position after a fill (one-way mode) and the gross pnl it realized.

    Quantities are kept to QTY_DECIMALS, as a venue's decimal book keeps them: 2.004 + 1.564 held is 3.568,
    not 3.5679999999999996, so the stop that closes it fills 3.568 and the trade reports 3.568."""
    delta = qty if side == "buy" else -qty
    held = position.qty
    if abs(held) <= DUST or (held > 0) == (delta > 0):
        size = abs(held) + qty
        entry = (abs(held) * position.entry_price + qty * price) / size
        return PaperPosition(qty=round_to(held + delta, QTY_DECIMALS), entry_price=entry), 0.0
    closing = min(qty, abs(held))
    direction = 1.0 if held > 0 else -1.0
    realized = closing * (price - position.entry_price) * direction
    remaining = round_to(qty - closing, QTY_DECIMALS)
    if remaining > DUST:  # flipped through zero: the rest opens the other way at this price
        return PaperPosition(qty=-direction * remaining, entry_price=price), realized
    left = round_to(held + delta, QTY_DECIMALS)
    if abs(left) <= DUST:
        return PaperPosition(), realized
    return PaperPosition(qty=left, entry_price=position.entry_price), realized


def unrealized(position: PaperPosition, mark: float) -> float:
    return position.qty * (mark - position.entry_price)
