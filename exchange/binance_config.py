"""Build the adapter from the bot's config (duck-typed: `cli.config_schema.BotConfig` or
anything with the same attribute names), so `exchange/` never imports `cli/`."""
from __future__ import annotations

from typing import Any

from exchange.binance import BinanceExchange
from exchange.binance_retry import RetryPolicy


def binance_from_config(config: Any, *, timeout_ms: int = 10_000, recv_window: int = 10_000,
                        retry: RetryPolicy | None = None) -> BinanceExchange:
    """`binance_base_url` ("" = Binance's own endpoint for `testnet`), `binance_key`, `binance_secret`."""
    return BinanceExchange(base_url=getattr(config, "binance_base_url", "") or None,
                           key=getattr(config, "binance_key", "") or None,
                           secret=getattr(config, "binance_secret", "") or None,
                           testnet=bool(getattr(config, "testnet", True)), timeout_ms=timeout_ms,
                           recv_window=recv_window, retry=retry)
