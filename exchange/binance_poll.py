"""Our orders on the venue and the fills they produced, turned into events once each.

The venue's trade tape (/fapi/v1/userTrades) is the source of fills: each trade id
becomes exactly one OrderFilled (partial fills included), mapped to our client id
through the venue order id. Conditional orders that left the open book are looked up:
triggered ones map their child order id (`actualOrderId`), canceled or expired ones
become OrderCanceled.
"""
from __future__ import annotations

from exchange.binance_calls import GuardedClient
from exchange.binance_errors import VenueError
from exchange.binance_orders import fill_event, is_conditional, lookup_params
from exchange.binance_symbols import to_unified
from journal.events import Event, OrderCanceled, OrderSubmitted


class FillTracker:
    def __init__(self, venue: GuardedClient) -> None:
        self.venue = venue
        self.orders: dict[str, OrderSubmitted] = {}
        self.client_of: dict[tuple[str, str], str] = {}  # (unified symbol, venue order id) -> client id
        self.cum: dict[str, float] = {}
        self.seen: set[str] = set()
        self.open_conditional: dict[str, OrderSubmitted] = {}
        self.last_trade_id: dict[str, int] = {}

    def register(self, order: OrderSubmitted) -> None:
        self.orders.setdefault(order.client_id, order)

    def is_conditional(self, client_id: str) -> bool | None:
        order = self.orders.get(client_id)
        return is_conditional(order) if order else None

    def closed(self, client_id: str) -> None:
        self.open_conditional.pop(client_id, None)

    def watch(self, order: OrderSubmitted, is_open: bool) -> None:
        """An order placed by an earlier process (restart reconciliation): its fills carry its purpose,
        and an open conditional one is checked at every poll, so a venue-side end is reported."""
        self.register(order)
        if is_open and is_conditional(order):
            self.open_conditional[order.client_id] = order

    def fills_of(self, order: OrderSubmitted, ts: int) -> list[Event]:
        """Every fill the venue has for one of our orders, by its venue order id (a triggered
        conditional order's fills are its child's). Same fill ids as the poll, so it dedupes them."""
        self.register(order)
        symbol = to_unified(order.symbol)
        conditional = is_conditional(order)
        events: list[Event] = []
        try:
            raw = self.venue.call(events, ts, self.venue.client.fetch_order, None, symbol,
                                  lookup_params(order.client_id, conditional), symbol=order.symbol,
                                  client_id=order.client_id)
            venue_id = (raw.get("info") or {}).get("actualOrderId") if conditional else raw.get("id")
            if not venue_id or not float(raw.get("filled") or 0.0) and not conditional:
                return events
            self.client_of[(symbol, str(venue_id))] = order.client_id
            trades = self.venue.call(events, ts, self.venue.client.fetch_my_trades, symbol, None, None,
                                     {"orderId": venue_id}, symbol=order.symbol, client_id=order.client_id)
        except VenueError:
            return events
        return events + self._fills(symbol, trades, ts, advance_cursor=False)

    def on_order(self, order: OrderSubmitted, raw: dict) -> list[Event]:
        """After an accepted submit: remember the venue id; fetch the fills it already has."""
        symbol = to_unified(order.symbol)
        self.client_of[(symbol, str(raw.get("id")))] = order.client_id
        if is_conditional(order):
            if raw.get("status") == "open":
                self.open_conditional[order.client_id] = order
            return []
        if not float(raw.get("filled") or 0.0):
            return []
        events: list[Event] = []
        try:
            trades = self.venue.call(events, order.ts, self.venue.client.fetch_my_trades, symbol, None, None,
                                     {"orderId": raw.get("id")}, symbol=order.symbol, client_id=order.client_id)
            return events + self._fills(symbol, trades, order.ts, advance_cursor=False)
        except VenueError:
            return events  # the next poll picks them up

    def poll(self, symbol: str, ts: int) -> list[Event]:
        """What happened to our orders on `symbol` since the last poll (`ts`: the bar being reported)."""
        unified = to_unified(symbol)
        events: list[Event] = []
        try:
            self._check_conditionals(symbol, unified, ts, events)
            last = self.last_trade_id.get(unified)
            # first poll of a process: trades from this bar on (older ones are restart reconciliation's job)
            since, params = (None, {"fromId": last + 1}) if last is not None else (ts, {})
            trades = self.venue.call(events, ts, self.venue.client.fetch_my_trades, unified, since, None, params,
                                     symbol=symbol)
            return events + self._fills(unified, trades, ts)
        except VenueError:
            return events

    def _check_conditionals(self, symbol: str, unified: str, ts: int, events: list[Event]) -> None:
        mine = [o for o in self.open_conditional.values() if o.symbol == symbol]
        if not mine:
            return
        still_open = self.venue.call(events, ts, self.venue.client.fetch_open_orders, unified, None, None,
                                     {"trigger": True}, symbol=symbol)
        open_ids = {str(o.get("clientOrderId")) for o in still_open}
        for order in mine:
            if order.client_id in open_ids:
                continue
            raw = self.venue.call(events, ts, self.venue.client.fetch_order, None, unified,
                                  lookup_params(order.client_id, True), symbol=symbol, client_id=order.client_id)
            status = raw.get("status")
            child = (raw.get("info") or {}).get("actualOrderId")
            if child:
                self.client_of[(unified, str(child))] = order.client_id
            if status in ("canceled", "expired", "rejected"):
                events.append(OrderCanceled(ts=ts, client_id=order.client_id, symbol=symbol,
                                            reason="expired" if status == "expired" else "venue"))
            if status != "open":
                self.closed(order.client_id)

    def _client_id(self, unified: str, order_id: str, events: list[Event], ts: int) -> str:
        key = (unified, order_id)
        if key not in self.client_of:
            raw = self.venue.call(events, ts, self.venue.client.fetch_order, order_id, unified)
            self.client_of[key] = str(raw.get("clientOrderId") or f"venue-{order_id}")
        return self.client_of[key]

    def _fills(self, unified: str, trades: list[dict], ts: int, advance_cursor: bool = True) -> list[Event]:
        """Trades in venue order as fills. The cursor never passes a trade that has no event yet:
        when its order lookup fails, the fills built so far and the lookup's errors are returned
        and the next poll starts again at that trade (`seen` drops the ones already reported)."""
        events: list[Event] = []  # (fills are only recorded as seen once their event exists)
        for trade in sorted(trades, key=lambda t: int(t["id"])):
            trade_id = int(trade["id"])
            try:
                client_id = self._client_id(unified, str(trade["order"]), events, ts)
            except VenueError:
                if advance_cursor:
                    self.last_trade_id[unified] = max(self.last_trade_id.get(unified, trade_id - 1), trade_id - 1)
                return events
            if advance_cursor:  # only the poll moves the cursor: an order's own trades may jump past others
                self.last_trade_id[unified] = max(self.last_trade_id.get(unified, 0), trade_id)
            order = self.orders.get(client_id)
            cum = self.cum.get(client_id, 0.0) + float(trade["amount"])
            event = fill_event(trade, client_id, order, cum)
            if event.fill_id in self.seen:
                continue
            self.seen.add(event.fill_id)
            self.cum[client_id] = cum
            events.append(event)
        return events
