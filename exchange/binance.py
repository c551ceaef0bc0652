"""The ccxt Binance USDⓈ-M adapter behind the `Exchange` port.

Every answer is a journal event; raw ccxt dicts and ccxt exceptions stay in `exchange/`.
Idempotent submit: after a timeout, a dropped response or a 5xx the order may exist on
the venue, so the next attempt first looks it up by client id (`origClientOrderId` /
`clientAlgoId`) and only resends when the venue has never seen it; -4116 (duplicate
client id) means "already there" and is answered from the lookup.
"""
from __future__ import annotations

from typing import Callable, Sequence

from exchange.binance_calls import GuardedClient
from exchange.binance_client import endpoint_of, make_client
from exchange.binance_errors import Rejected, VenueError
from exchange.binance_orders import lookup_params, order_status
from exchange.binance_poll import FillTracker
from exchange.binance_retry import RetryPolicy
from exchange.binance_submit import submit_once
from exchange.binance_symbols import to_config, to_unified
from exchange.port import OrderStatus, PositionStatus
from journal.events import (
    CandleClosed, EquityObserved, Event, FundingObserved, MarketLoaded, OrderCancelRequested, OrderCanceled,
    OrderSubmitted,
)

ENDED = ("canceled", "expired", "rejected")


class BinanceExchange:
    """`Exchange` on Binance USDⓈ-M (or anything speaking its API, e.g. `bot exchange-sim`)."""

    name = "binance"

    def __init__(self, *, base_url: str | None = None, key: str | None = None, secret: str | None = None,
                 testnet: bool = True, recv_window: int = 10_000, timeout_ms: int = 10_000,
                 retry: RetryPolicy | None = None, drift_alarm_ms: int = 1000,
                 now_ms: Callable[[], int] | None = None, monotonic: Callable[[], float] | None = None) -> None:
        client = make_client(base_url=base_url, key=key, secret=secret, testnet=testnet, timeout_ms=timeout_ms,
                             recv_window=recv_window)
        self.endpoint = endpoint_of(base_url, testnet)
        self.venue = GuardedClient(client, retry or RetryPolicy(), tuple(s for s in (key, secret) if s),
                                   drift_alarm_ms=drift_alarm_ms, now_ms=now_ms, monotonic=monotonic)
        self.fills = FillTracker(self.venue)
        self._markets_loaded = False

    def __repr__(self) -> str:  # never the keys
        return f"BinanceExchange(endpoint={self.endpoint!r})"

    # ------------------------------------------------------------------ market data

    def load_markets(self, symbols: Sequence[str], ts: int) -> list[MarketLoaded]:
        """Markets once per process; tick/step/min notional as events. Raises VenueError
        when the venue cannot be reached (nothing can trade without markets)."""
        events: list[Event] = []
        markets = self.venue.call(events, ts, self.venue.client.load_markets)
        self._markets_loaded = True
        answer = []
        for symbol in symbols:
            market = markets.get(to_unified(symbol))
            if market is None:
                raise Rejected(f"{symbol}: not listed on {self.endpoint}", reason="rejected")
            limits = market["limits"]
            answer.append(MarketLoaded(
                ts=ts, symbol=symbol, tick_size=float(market["precision"]["price"]),
                step_size=float(market["precision"]["amount"]), min_qty=float(limits["amount"]["min"] or 0.0),
                min_notional=float((limits.get("cost") or {}).get("min") or 0.0)))
        return answer

    def ohlcv_rows(self, symbol: str, timeframe: str, limit: int, since: int | None = None,
                   events: list[Event] | None = None, ts: int = 0) -> list[list[float]]:
        """Closed bars only, as [ts, open, high, low, close, volume] (the venue's newest kline,
        the forming bar, is dropped). Raises VenueError after retries."""
        unified = to_unified(symbol)
        sink: list[Event] = events if events is not None else []
        newest = self.venue.call(sink, ts, self.venue.client.fetch_ohlcv, unified, timeframe, None, 1, symbol=symbol)
        forming = int(newest[-1][0]) if newest else None
        rows = self.venue.call(sink, ts, self.venue.client.fetch_ohlcv, unified, timeframe, since, limit + 1,
                               symbol=symbol)
        closed = [r for r in rows if forming is None or int(r[0]) < forming]
        # from `since`: the oldest `limit` bars (the caller polls again for the rest); else the newest
        kept = closed[:limit] if since is not None else closed[-limit:]
        return [[int(r[0]), *(float(x) for x in r[1:6])] for r in kept]

    def poll_candles(self, symbol: str, timeframe: str, since: int, ts: int, limit: int = 500) -> list[Event]:
        """Closed bars opened at or after `since` as CandleClosed (ErrorObserved when unreachable)."""
        events: list[Event] = []
        try:
            rows = self.ohlcv_rows(symbol, timeframe, limit, since, events, ts)
        except VenueError:
            return events
        return events + [CandleClosed(ts=r[0], symbol=symbol, timeframe=timeframe, open=r[1], high=r[2], low=r[3],
                                      close=r[4], volume=r[5]) for r in rows if r[0] >= since]

    def observe_clock(self, ts: int) -> list[Event]:
        """Measure and adopt the venue clock (ClockObserved; time_drift when beyond the alarm)."""
        events: list[Event] = []
        self.venue.resync_safely(events, ts)
        return events

    def observe_funding(self, symbol: str, ts: int) -> list[Event]:
        events: list[Event] = []
        try:
            raw = self.venue.call(events, ts, self.venue.client.fetch_funding_rate, to_unified(symbol), symbol=symbol)
        except VenueError:
            return events
        next_funding = raw.get("fundingTimestamp") or raw.get("nextFundingTimestamp") or 0
        events.append(FundingObserved(ts=ts, symbol=symbol, rate=float(raw.get("fundingRate") or 0.0),
                                      next_funding_ts=int(next_funding)))
        return events

    def observe_equity(self, ts: int) -> list[Event]:
        events: list[Event] = []
        try:
            balance = self.venue.call(events, ts, self.venue.client.fetch_balance)
        except VenueError:
            return events
        usdt = balance.get("USDT") or {}
        events.append(EquityObserved(ts=ts, equity=float(usdt.get("total") or 0.0),
                                     available=float(usdt.get("free") or 0.0), source="exchange"))
        return events

    # ------------------------------------------------------------------ the loop's hooks

    def advance(self, candle: CandleClosed) -> list[Event]:
        return self.fills.poll(candle.symbol, candle.ts)

    def bar_closed(self, candle: CandleClosed) -> list[Event]:
        return []

    # ------------------------------------------------------------------ orders

    def submit(self, order: OrderSubmitted) -> list[Event]:
        """Place once (idempotent on client_id); see `exchange.binance_submit`."""
        return submit_once(self.venue, self.fills, order)

    def cancel(self, request: OrderCancelRequested) -> list[Event]:
        """Cancel by client id. An "unknown order" answer is checked against the venue: after a
        lost answer the first attempt may have canceled it already (then: OrderCanceled), and an
        order the venue ended itself is reported ended (OrderCanceled `venue_expired` / `venue_rejected`)."""
        events: list[Event] = []
        reason = request.reason
        conditional = self.fills.is_conditional(request.client_id)
        kinds = (conditional,) if conditional is not None else (False, True)
        for kind in kinds:
            try:
                self.venue.call(events, request.ts, self.venue.client.cancel_order, None, to_unified(request.symbol),
                                lookup_params(request.client_id, kind), symbol=request.symbol,
                                client_id=request.client_id)
            except VenueError as error:
                if error.order_reason != "unknown_order":
                    return events
                status = self._status_or_none(request.client_id, request.symbol, kind)
                if status is None and kind is not kinds[-1]:
                    events.pop()  # not in this book: try the algo book
                    continue
                if status is None or status.status not in ENDED:
                    return events  # never there, or it filled first (the fill arrives through advance)
                events.pop()  # it ended already: not an error
                if status.status != "canceled":  # the venue ended it (a TP expired when the stop closed)
                    reason = f"venue_{status.status}"
            self.fills.closed(request.client_id)
            events.append(OrderCanceled(ts=request.ts, client_id=request.client_id, symbol=request.symbol,
                                        reason=reason))
            return events
        return events

    def _status_or_none(self, client_id: str, symbol: str, conditional: bool) -> OrderStatus | None:
        try:
            raw = self.venue.call([], 0, self.venue.client.fetch_order, None, to_unified(symbol),
                                  lookup_params(client_id, conditional))
        except VenueError:
            return None
        return order_status(raw)

    # ------------------------------------------------------------------ venue state (reconciliation)

    def track(self, order: OrderSubmitted, status: OrderStatus) -> None:
        """Restart: watch an order of the previous process (its venue-side end is then reported)."""
        self.fills.watch(order, status.status == "open")

    def order_fills(self, order: OrderSubmitted, ts: int) -> list[Event]:
        """Restart: the fills of one of our orders the journal may not hold (OrderFilled, ErrorObserved)."""
        return self.fills.fills_of(order, ts)

    def fetch_order(self, client_id: str, symbol: str) -> OrderStatus | None:
        conditional = self.fills.is_conditional(client_id)
        for kind in ((conditional,) if conditional is not None else (False, True)):
            try:
                raw = self.venue.call([], 0, self.venue.client.fetch_order, None, to_unified(symbol),
                                      lookup_params(client_id, kind))
            except Rejected as error:
                if error.order_reason == "unknown_order":
                    continue
                raise
            return order_status(raw)
        return None

    def open_orders(self, symbol: str) -> list[OrderStatus]:
        unified = to_unified(symbol)
        plain = self.venue.call([], 0, self.venue.client.fetch_open_orders, unified)
        algo = self.venue.call([], 0, self.venue.client.fetch_open_orders, unified, None, None, {"trigger": True})
        return [order_status(raw) for raw in (*plain, *algo)]

    def positions(self) -> list[PositionStatus]:
        rows = self.venue.call([], 0, self.venue.client.fetch_positions)
        return [PositionStatus(symbol=to_config(r["symbol"]), side=r["side"], qty=float(r["contracts"]),
                               entry_price=float(r["entryPrice"])) for r in rows if float(r.get("contracts") or 0)]

    def equity(self) -> float:
        balance = self.venue.call([], 0, self.venue.client.fetch_balance)
        return float((balance.get("USDT") or {}).get("total") or 0.0)
