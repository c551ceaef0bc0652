"""Config symbols (`BTC/USDT`) <-> ccxt unified USDⓈ-M symbols (`BTC/USDT:USDT`)."""
from __future__ import annotations

from journal.errors import BadInput


def to_unified(symbol: str) -> str:
    """`BTC/USDT` -> `BTC/USDT:USDT` (a linear perpetual settles in its quote)."""
    if ":" in symbol:
        return symbol
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote:
        raise BadInput(f"symbol {symbol!r}: expected BASE/QUOTE, e.g. BTC/USDT")
    return f"{base}/{quote}:{quote}"


def to_config(symbol: str) -> str:
    """`BTC/USDT:USDT` -> `BTC/USDT`."""
    return symbol.split(":", 1)[0]
