"""Which handler answers which Binance path, and whether it is SIGNED.

Handlers take (venue, params, server_now_ms) and return the JSON body. Paths under
/sim/ are this server's own test controls, not Binance API.
"""
from __future__ import annotations

from typing import Any, Callable

from exchange.sim import account_views, market_views
from exchange.sim.markets import exchange_info
from exchange.sim.venue import Venue

Handler = Callable[[Venue, dict, int], Any]
PUBLIC, SIGNED = False, True
ORDER_PLACEMENT = {("POST", "/fapi/v1/order"), ("POST", "/fapi/v1/algoOrder")}
ORDER_ACTIONS = ORDER_PLACEMENT | {("DELETE", "/fapi/v1/order"), ("DELETE", "/fapi/v1/algoOrder")}
"""Where the venue acts, then the answer can be lost (timeout_after_accept, drop_response)."""
UNFAULTED = {"/fapi/v1/time", "/fapi/v1/ping"}
"""Always answer: the client needs them to resync its clock."""

ROUTES: dict[tuple[str, str], tuple[bool, Handler]] = {
    ("GET", "/fapi/v1/ping"): (PUBLIC, lambda v, p, now: {}),
    ("GET", "/fapi/v1/time"): (PUBLIC, lambda v, p, now: {"serverTime": now}),
    ("GET", "/fapi/v1/exchangeInfo"): (PUBLIC, lambda v, p, now: exchange_info(v.series, now)),
    ("GET", "/fapi/v1/klines"): (PUBLIC, lambda v, p, now: market_views.klines(v, p, v.clock.bar_ms)),
    ("GET", "/fapi/v1/premiumIndex"): (PUBLIC, lambda v, p, now: market_views.premium_index(v, p.get("symbol"), now)),
    ("GET", "/fapi/v3/account"): (SIGNED, lambda v, p, now: account_views.account(v, now)),
    ("GET", "/fapi/v2/account"): (SIGNED, lambda v, p, now: account_views.account(v, now)),
    ("GET", "/fapi/v2/balance"): (SIGNED, lambda v, p, now: account_views.balance_v2(v, now)),
    ("GET", "/fapi/v3/positionRisk"): (SIGNED, lambda v, p, now: account_views.position_risk(v, p.get("symbol"))),
    ("GET", "/fapi/v2/positionRisk"): (SIGNED, lambda v, p, now: account_views.position_risk(v, p.get("symbol"))),
    ("GET", "/fapi/v1/leverageBracket"): (SIGNED, lambda v, p, now: account_views.leverage_brackets(v)),
    ("POST", "/fapi/v1/leverage"): (SIGNED, lambda v, p, now: v.set_leverage(p)),
    ("POST", "/fapi/v1/order"): (SIGNED, lambda v, p, now: v.place_order(p, partial=p.get("_partial") == "1")),
    ("DELETE", "/fapi/v1/order"): (SIGNED, lambda v, p, now: v.cancel(p, algo=False)),
    ("GET", "/fapi/v1/order"): (SIGNED, lambda v, p, now: v.query(p, algo=False)),
    ("GET", "/fapi/v1/openOrders"): (SIGNED, lambda v, p, now: v.open_orders(p.get("symbol"), algo=False)),
    ("GET", "/fapi/v1/allOrders"): (SIGNED, lambda v, p, now: v.all_orders(p.get("symbol", ""), algo=False)),
    ("POST", "/fapi/v1/algoOrder"): (SIGNED, lambda v, p, now: v.place_algo(p)),
    ("DELETE", "/fapi/v1/algoOrder"): (SIGNED, lambda v, p, now: v.cancel(p, algo=True)),
    ("GET", "/fapi/v1/algoOrder"): (SIGNED, lambda v, p, now: v.query(p, algo=True)),
    ("GET", "/fapi/v1/openAlgoOrders"): (SIGNED, lambda v, p, now: v.open_orders(p.get("symbol"), algo=True)),
    ("GET", "/fapi/v1/allAlgoOrders"): (SIGNED, lambda v, p, now: v.all_orders(p.get("symbol", ""), algo=True)),
    ("DELETE", "/fapi/v1/algoOpenOrders"): (SIGNED, lambda v, p, now: v.cancel_all_algos(p.get("symbol", ""))),
    ("GET", "/fapi/v1/userTrades"): (SIGNED, lambda v, p, now: v.user_trades(p)),
}
