"""The seed's `ExchangeAPI`: a thin imperative facade over the ccxt adapter for scripts.

    ex = ExchangeAPI(auto_connect=True)          # env: BINANCE_BASE_URL, BINANCE_KEY,
    ohlcv = ex.fetch_ohlcv("BTC/USDT", "1h", limit=200)   # BINANCE_SECRET, BINANCE_TESTNET
    equity = ex.get_equity_usdt()

The bot itself uses `exchange.binance.BinanceExchange` through the `Exchange` port;
this facade answers the same typed values (closed candle rows, floats, events) and
raises `VenueError` subclasses where the seed raised ccxt errors.
"""
from __future__ import annotations

import os
import time

from exchange.binance import BinanceExchange
from exchange.binance_errors import VenueError
from exchange.port import OrderStatus, PositionStatus
from journal.events import Event, OrderCancelRequested, OrderSubmitted


def _truthy(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


class ExchangeAPI:
    def __init__(self, client: BinanceExchange | None = None, auto_connect: bool = False) -> None:
        self.client = client
        if auto_connect:
            self.connect()

    def __repr__(self) -> str:
        return f"ExchangeAPI(client={self.client!r})"

    def connect(self, symbols: tuple[str, ...] = ()) -> BinanceExchange:
        """Build the adapter from the environment (if none was given) and load markets once."""
        if self.client is None:
            self.client = BinanceExchange(
                base_url=os.environ.get("BINANCE_BASE_URL") or None, key=os.environ.get("BINANCE_KEY"),
                secret=os.environ.get("BINANCE_SECRET"), testnet=_truthy(os.environ.get("BINANCE_TESTNET"), True))
        self.client.load_markets(symbols, ts=self._now())
        return self.client

    def _adapter(self) -> BinanceExchange:
        if self.client is None:
            raise RuntimeError("ExchangeAPI is not connected: pass client= or auto_connect=True")
        return self.client

    @staticmethod
    def _now() -> int:
        return int(time.time() * 1000)

    def fetch_ohlcv(self, symbol: str, timeframe: str = "1h", limit: int = 200,
                    since: int | None = None) -> list[list[float]]:
        """Closed candles [ts, open, high, low, close, volume], oldest first."""
        return self._adapter().ohlcv_rows(symbol, timeframe, limit, since, ts=self._now())

    def get_equity_usdt(self) -> float:
        return self._adapter().equity()

    def positions(self) -> list[PositionStatus]:
        return self._adapter().positions()

    def _submit(self, client_id: str, symbol: str, side: str, kind: str, qty: float, purpose: str, *,
                price: float | None = None, stop_price: float | None = None, reduce_only: bool = False) -> list[Event]:
        order = OrderSubmitted(ts=self._now(), client_id=client_id, symbol=symbol, side=side, order_kind=kind,
                               qty=qty, purpose=purpose, price=price, stop_price=stop_price, reduce_only=reduce_only)
        return self._adapter().submit(order)

    def market_order(self, symbol: str, side: str, qty: float, client_id: str, reduce_only: bool = False) -> list[Event]:
        return self._submit(client_id, symbol, side, "market", qty, "exit" if reduce_only else "entry",
                            reduce_only=reduce_only)

    def stop_market(self, symbol: str, side: str, qty: float, stop_price: float, client_id: str) -> list[Event]:
        """A reduce-only protective STOP_MARKET (Binance's algo service)."""
        return self._submit(client_id, symbol, side, "stop_market", qty, "stop", stop_price=stop_price,
                            reduce_only=True)

    def take_profit_market(self, symbol: str, side: str, qty: float, price: float, client_id: str) -> list[Event]:
        return self._submit(client_id, symbol, side, "take_profit_market", qty, "take_profit", stop_price=price,
                            reduce_only=True)

    def cancel_order(self, symbol: str, client_id: str) -> list[Event]:
        return self._adapter().cancel(OrderCancelRequested(ts=self._now(), client_id=client_id, symbol=symbol,
                                                           reason="requested"))

    def fetch_order(self, symbol: str, client_id: str) -> OrderStatus | None:
        return self._adapter().fetch_order(client_id, symbol)


__all__ = ["ExchangeAPI", "VenueError"]
