"""Build the ccxt `binanceusdm` client: base URL override, keys, timeouts, error tables.

With a base URL (config `binance_base_url` / env `BINANCE_BASE_URL`) every API host is
rewritten to it, and the USDⓈ-M (`linear`) error table is merged into the exact table
so a local server's codes map to the same ccxt classes as production's. Without one,
`testnet` picks Binance's futures testnet, else production.
"""
from __future__ import annotations

import re

import ccxt

PRODUCTION_URL = "https://fapi.binance.com"
TESTNET_URL = "https://testnet.binancefuture.com"


def _rebase(urls: dict, base: str) -> dict:
    return {k: re.sub(r"^https?://[^/]+", base, v) if isinstance(v, str) else v for k, v in urls.items()}


def make_client(*, base_url: str | None, key: str | None, secret: str | None, testnet: bool,
                timeout_ms: int, recv_window: int) -> ccxt.binanceusdm:
    client = ccxt.binanceusdm({
        "apiKey": key or "",
        "secret": secret or "",
        "enableRateLimit": False,
        "timeout": timeout_ms,
        "options": {"fetchCurrencies": False, "recvWindow": recv_window, "adjustForTimeDifference": False,
                    "defaultType": "swap", "warnOnFetchOpenOrdersWithoutSymbol": False},
    })
    if base_url:
        client.urls["api"] = _rebase(client.urls["api"], base_url.rstrip("/"))
        client.exceptions["exact"] = {**client.exceptions["exact"], **client.exceptions["linear"]["exact"]}
        client.exceptions["broad"] = {**client.exceptions["broad"], **client.exceptions["linear"].get("broad", {})}
    elif testnet:
        client.set_sandbox_mode(True)
    return client


def endpoint_of(base_url: str | None, testnet: bool) -> str:
    """The host the adapter talks to (for logs and reports; never carries keys)."""
    return (base_url or (TESTNET_URL if testnet else PRODUCTION_URL)).rstrip("/")
