"""Venue rules the paper exchange announces, as data (Binance USDⓈ-M values, 2025)."""
from __future__ import annotations

import msgspec


class MarketRules(msgspec.Struct, frozen=True, kw_only=True):
    tick_size: float
    step_size: float
    min_qty: float = 0.0
    min_notional: float = 0.0


KNOWN_MARKETS: dict[str, MarketRules] = {
    "BTC/USDT": MarketRules(tick_size=0.1, step_size=0.001, min_qty=0.001, min_notional=100.0),
    "ETH/USDT": MarketRules(tick_size=0.01, step_size=0.001, min_qty=0.001, min_notional=20.0),
    "SOL/USDT": MarketRules(tick_size=0.01, step_size=0.01, min_qty=0.01, min_notional=5.0),
    "BNB/USDT": MarketRules(tick_size=0.01, step_size=0.01, min_qty=0.01, min_notional=5.0),
}
DEFAULT_RULES = MarketRules(tick_size=0.0001, step_size=0.001, min_qty=0.001, min_notional=5.0)
"""For symbols not listed: fine enough that the core's rounding never distorts a demo."""


def rules_for(symbol: str, overrides: dict[str, MarketRules] | None = None) -> MarketRules:
    base = symbol.split(":")[0]
    if overrides and base in overrides:
        return overrides[base]
    return KNOWN_MARKETS.get(base, DEFAULT_RULES)
