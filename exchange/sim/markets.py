"""Venue rules the sim announces in /fapi/v1/exchangeInfo (Binance's own values for the
pairs we trade; the paper exchange uses the same numbers, so both venues agree)."""
from __future__ import annotations

from dataclasses import dataclass

from exchange.sim.data import Series


@dataclass(frozen=True)
class Rules:
    tick_size: float
    step_size: float
    min_qty: float
    min_notional: float


KNOWN_RULES = {
    "BTCUSDT": Rules(tick_size=0.1, step_size=0.001, min_qty=0.001, min_notional=100.0),
    "ETHUSDT": Rules(tick_size=0.01, step_size=0.001, min_qty=0.001, min_notional=20.0),
    "SOLUSDT": Rules(tick_size=0.01, step_size=0.01, min_qty=0.01, min_notional=5.0),
    "BNBUSDT": Rules(tick_size=0.01, step_size=0.01, min_qty=0.01, min_notional=5.0),
}
DEFAULT_RULES = Rules(tick_size=0.0001, step_size=0.001, min_qty=0.001, min_notional=5.0)
LIMIT_MAX_QTY, MARKET_MAX_QTY = 1000, 120  # LOT_SIZE / MARKET_LOT_SIZE maxQty
ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]


def rules_for(venue_id: str) -> Rules:
    return KNOWN_RULES.get(venue_id, DEFAULT_RULES)


def _decimals(step: float) -> int:
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def _fmt(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".") or "0"


def symbol_info(series: Series) -> dict:
    rules = rules_for(series.venue_id)
    return {
        "symbol": series.venue_id,
        "pair": series.venue_id,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "baseAsset": series.base,
        "quoteAsset": series.quote,
        "marginAsset": series.quote,
        "pricePrecision": _decimals(rules.tick_size),
        "quantityPrecision": _decimals(rules.step_size),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "triggerProtect": "0.0500",
        "orderTypes": ORDER_TYPES,
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": _fmt(rules.tick_size), "minPrice": _fmt(rules.tick_size),
             "maxPrice": "4529764"},
            {"filterType": "LOT_SIZE", "stepSize": _fmt(rules.step_size), "minQty": _fmt(rules.min_qty),
             "maxQty": str(LIMIT_MAX_QTY)},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": _fmt(rules.step_size), "minQty": _fmt(rules.min_qty),
             "maxQty": str(MARKET_MAX_QTY)},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": _fmt(rules.min_notional)},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
    }


def exchange_info(series: dict[str, Series], server_time: int) -> dict:
    return {
        "timezone": "UTC",
        "serverTime": server_time,
        "futuresType": "U_MARGINED",
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol_info(s) for s in series.values()],
    }
