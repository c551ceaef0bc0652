"""Binance's LOT_SIZE / MARKET_LOT_SIZE and PRICE_FILTER checks on the strings the client sent.

The real venue rejects an unrounded quantity or price; the sim does too, with Binance's codes,
so a precision bug fails a sim test instead of the first live order:
-1111 more decimals than the symbol's precision, -4003 quantity <= 0, -4004 below minQty,
-4005 above maxQty, -4023 not a multiple of stepSize, -4014 price not a multiple of tickSize.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from exchange.sim.markets import LIMIT_MAX_QTY, MARKET_MAX_QTY, Rules
from exchange.sim.signing import ApiError


def _decimal(text: str, key: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ApiError(400, -1100, f"Illegal characters found in parameter '{key}'.") from None
    if not value.is_finite():
        raise ApiError(400, -1100, f"Illegal characters found in parameter '{key}'.")
    return value


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _step(value: float) -> Decimal:
    return Decimal(repr(value))


def check_quantity(text: str, rules: Rules, market: bool) -> None:
    qty, step = _decimal(text, "quantity"), _step(rules.step_size)
    if qty <= 0:
        raise ApiError(400, -4003, "Quantity less than or equal to zero.")
    if _places(qty) > _places(step):
        raise ApiError(400, -1111, "Precision is over the maximum defined for this asset.")
    if qty < _step(rules.min_qty):
        raise ApiError(400, -4004, "Quantity less than min quantity.")
    if qty > (MARKET_MAX_QTY if market else LIMIT_MAX_QTY):
        raise ApiError(400, -4005, "Quantity greater than max quantity.")
    if qty % step:
        raise ApiError(400, -4023, "Quantity not increased by step size.")


def check_price(text: str, rules: Rules, key: str = "price") -> None:
    price, tick = _decimal(text, key), _step(rules.tick_size)
    if _places(price) > _places(tick):
        raise ApiError(400, -1111, "Precision is over the maximum defined for this asset.")
    if price % tick:
        raise ApiError(400, -4014, "Price not increased by tick size.")
