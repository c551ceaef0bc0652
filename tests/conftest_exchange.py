"""Fixtures of the exchange tests (imported explicitly): an in-process `exchange-sim` on
127.0.0.1 (port 0, frozen market clock stepped by the tests) and the ccxt adapter
pointed at it with short timeouts and waits so fault tests take milliseconds."""
from __future__ import annotations

from pathlib import Path

import pytest

from exchange.binance import BinanceExchange
from exchange.binance_retry import RetryPolicy
from exchange.sim.boot import build_server

DATA = Path(__file__).parent / "data" / "ohlcv"
KEY, SECRET = "test-key-5f1e0c", "test-secret-9a7b3d2c"
FAST_RETRY = RetryPolicy(attempts=3, base_wait_s=0.01, max_wait_s=0.05)


def start_sim(**kwargs):
    kwargs.setdefault("speed", 0.0)
    kwargs.setdefault("retry_after_s", 0)
    return build_server(DATA, key=KEY, secret=SECRET, **kwargs).start()


def make_adapter(url: str, key: str = KEY, secret: str = SECRET, **kwargs) -> BinanceExchange:
    kwargs.setdefault("timeout_ms", 400)
    kwargs.setdefault("retry", FAST_RETRY)
    return BinanceExchange(base_url=url, key=key, secret=secret, testnet=True, **kwargs)


@pytest.fixture
def sim():
    server = start_sim()
    yield server
    server.stop()


@pytest.fixture
def adapter(sim):
    exchange = make_adapter(sim.url)
    exchange.load_markets(["BTC/USDT", "ETH/USDT"], ts=sim.venue.forming)
    return exchange


def protected(sim) -> bool:
    """Every open position on the venue has open reduce-only stops covering its quantity."""
    for symbol, position in sim.venue.ledger.positions.items():
        if abs(position.qty) < 1e-12:
            continue
        stops = [o for o in sim.venue.algos.values() if o.symbol == symbol and o.is_open
                 and o.type == "STOP_MARKET" and o.reduce_only]
        if sum(o.qty for o in stops) < abs(position.qty) - 1e-9:
            return False
    return True
