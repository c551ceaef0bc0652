"""Idempotent order placement: never the same client id twice on the venue.

Every placement first looks the client id up (`origClientOrderId`, or `clientAlgoId` for
conditional orders) and only places it when the venue has never seen it: after a timeout,
a dropped response or a 5xx the order may exist, and a restarted process (or any resend)
cannot know whether an earlier one placed it. Binance only refuses a client id that is
in use by an OPEN order (-4116, answered from the lookup too), so a filled market order
would be placed again without the lookup. One GET per new order is the price.
A -1021 resyncs the clock once per submit; a second one is fatal.
"""
from __future__ import annotations

from exchange.binance_calls import GuardedClient
from exchange.binance_errors import Fatal, Rejected, Retryable, VenueError
from exchange.binance_orders import create_args, is_conditional, lookup_params
from exchange.binance_poll import FillTracker
from exchange.binance_symbols import to_unified
from journal.events import Event, OrderAccepted, OrderRejected, OrderSubmitted


def submit_once(venue: GuardedClient, fills: FillTracker, order: OrderSubmitted) -> list[Event]:
    """Place once (idempotent on client_id); every failed attempt is an ErrorObserved."""
    events: list[Event] = []
    fills.register(order)
    resyncs: list[int] = []
    try:
        for attempt in venue.policy.retrying():
            with attempt:
                raw = _lookup_then_place(venue, order, events, resyncs)
    except VenueError as error:
        if isinstance(error, Rejected) and not error.ambiguous:
            events.append(OrderRejected(ts=order.ts, client_id=order.client_id, symbol=order.symbol,
                                        reason=error.order_reason, code=error.code, message=error.message))
        return events  # else: state unknown, the next poll or a reconcile finds it by client id
    events.append(OrderAccepted(ts=order.ts, client_id=order.client_id, symbol=order.symbol,
                                exchange_id=str(raw.get("id") or "")))
    events.extend(fills.on_order(order, raw))
    return events


def _lookup_then_place(venue: GuardedClient, order: OrderSubmitted, events: list[Event], resyncs: list[int]) -> dict:
    found = _lookup(venue, order, events, resyncs)  # sent before (here or by an earlier process)?
    if found is not None:
        return found
    try:
        return venue.once(venue.client.create_order, *create_args(order))
    except VenueError as error:
        if error.code == -4116:  # the venue has it already
            found = _lookup(venue, order, events, resyncs)
            if found is not None:
                return found
        events.append(venue.error_event(error, order.ts, order.symbol, order.client_id))
        _after_nonce(venue, error, order, events, resyncs)
        raise


def _after_nonce(venue: GuardedClient, error: VenueError, order: OrderSubmitted, events: list[Event],
                 resyncs: list[int]) -> None:
    """-1021: resync the clock once per submit; again after a resync is a burst, and fatal."""
    if error.reason != "nonce":
        return
    if resyncs:
        raise Fatal(error.message, code=error.code, reason="nonce") from None
    venue.resync_safely(events, order.ts)
    resyncs.append(order.ts)


def _lookup(venue: GuardedClient, order: OrderSubmitted, events: list[Event], resyncs: list[int]) -> dict | None:
    try:
        return venue.once(venue.client.fetch_order, None, to_unified(order.symbol),
                               lookup_params(order.client_id, is_conditional(order)))
    except Rejected as error:
        if error.order_reason == "unknown_order":
            return None
        raise
    except VenueError as error:
        events.append(venue.error_event(error, order.ts, order.symbol, order.client_id))
        if isinstance(error, Fatal):
            raise
        _after_nonce(venue, error, order, events, resyncs)
        raise Retryable(error.message, code=error.code, reason=error.reason, retry_after=error.retry_after,
                        ambiguous=True) from None
