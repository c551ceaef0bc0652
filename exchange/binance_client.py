"""Build the ccxt `binanceusdm` client: base URL override, keys, timeouts, error tables.

With a base URL (config `binance_base_url` / env `BINANCE_BASE_URL`) every API host is
rewritten to it, and the USDⓈ-M (`linear`) error table is merged into the exact table
so a local server's codes map to the same ccxt classes as production's. Without one,
`testnet` picks Binance's futures testnet, else production.
"""
from __future__ import annotations

import logging
import re

import ccxt


CCXT_LOGGER = "exchange.ccxt"


class Redact(logging.Filter):
    """ccxt's DEBUG log prints request headers (the API key) and signed URLs: scrub them."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_log(record.getMessage(), self.secrets)
        record.args = ()
        return True


def scrub_log(message: str, secrets: tuple[str, ...]) -> str:
    message = re.sub(r"signature=[0-9a-fA-F]+", "signature=***", message)
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _redacted_logger(secrets: tuple[str, ...]) -> logging.Logger:
    logger = logging.getLogger(CCXT_LOGGER)
    if not any(isinstance(f, Redact) and f.secrets == secrets for f in logger.filters):
        logger.addFilter(Redact(secrets))
    return logger

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
    client.logger = _redacted_logger(tuple(s for s in (key, secret) if s))
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
