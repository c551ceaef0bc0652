"""The Exchange port: everything the run loop needs from a venue.

Implemented by the paper exchange (`exchange.paper`) and the ccxt Binance USDⓈ-M
adapter (`exchange.binance`). The loop is identical for backtest, paper and live;
only the Exchange (and Clock) it is wired with differ (`cli.bootstrap`).

Every method answers with journal events (typed, never raw venue dicts). Venue
errors do not raise: they come back as `ErrorObserved` / `OrderRejected` events,
so the loop records them and the core decides. Only programming errors raise.
"""
from __future__ import annotations

from typing import Protocol, Sequence

import msgspec

from journal.events import (
    CandleClosed,
    Event,
    MarketLoaded,
    OrderCancelRequested,
    OrderSubmitted,
)


class OrderStatus(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the venue sees it (used by restart reconciliation)."""

    client_id: str
    symbol: str
    side: str  # buy | sell
    order_kind: str  # market | limit | stop_market | take_profit_market
    qty: float
    filled_qty: float
    status: str  # open | filled | canceled | rejected | expired
    stop_price: float | None = None
    price: float | None = None
    avg_price: float | None = None
    reduce_only: bool = False


class PositionStatus(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    side: str  # long | short
    qty: float
    entry_price: float


class Exchange(Protocol):
    """A venue. Symbols are config symbols (`BTC/USDT`); adapters map them."""

    name: str

    def load_markets(self, symbols: Sequence[str], ts: int) -> list[MarketLoaded]:
        """Tick, step and min notional per symbol, as events for the core."""

    def advance(self, candle: CandleClosed) -> list[Event]:
        """The market has moved through this closed bar: report what happened to our
        orders on its symbol during it (fills, cancels, errors), in venue order.
        Paper: pending market orders fill at the bar's open, stops trigger inside
        [low, high]. Live: poll the venue for fills and order states."""

    def bar_closed(self, candle: CandleClosed) -> list[Event]:
        """The loop has processed this bar's intrabar answers and is about to hand the
        core the close. Orders submitted before this call (e.g. the stop placed after an
        entry filled at the bar's open) were live during the rest of the bar; orders
        submitted after it rest until the next bar. Live adapters usually return []."""

    def submit(self, order: OrderSubmitted) -> list[Event]:
        """Place an order (idempotent on client_id: a retry looks it up first).
        Answers OrderAccepted / OrderRejected / OrderFilled / ErrorObserved."""

    def cancel(self, request: OrderCancelRequested) -> list[Event]:
        """Cancel by client id. Answers OrderCanceled, or ErrorObserved/OrderRejected."""

    def fetch_order(self, client_id: str, symbol: str) -> OrderStatus | None:
        """The venue's view of one of our orders, None when it never arrived."""

    def open_orders(self, symbol: str) -> list[OrderStatus]:
        """Open orders on a symbol (plain and conditional)."""

    def track(self, order: OrderSubmitted, status: OrderStatus) -> None:
        """Restart: the journal believes `order` (placed by an earlier process) is live and the
        venue reports `status`. Watch it from now on, so `advance` and `cancel` report its end
        at the venue (a stop canceled or expired there) as for orders this process placed."""

    def order_fills(self, order: OrderSubmitted, ts: int) -> list[Event]:
        """Restart: every fill the venue has for one of our orders, as OrderFilled with the same
        fill ids `advance` uses (ErrorObserved when unreachable). The core drops ones it holds."""

    def positions(self) -> list[PositionStatus]:
        """Open positions."""

    def equity(self) -> float:
        """Wallet equity in the quote currency."""
