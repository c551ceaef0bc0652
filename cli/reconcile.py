"""Restart reconciliation: compare the orders the journal says are live with the venue.

A crash can fall between "intent durable" and "order sent", or between the venue acting
and its answer being recorded. Client ids are deterministic, so each order is looked
up, never guessed: an intent the venue never received is sent now (same client id), unless
it is an entry whose bar is long gone (recorded as canceled, `reconcile_stale`); a
cancel that never arrived is sent again; an order the venue ended while we were down
is reported as ended; an open order of ours the journal does not know is canceled.
Everything found, and each action, is recorded in one `reconcile_observed` input; the
venue's answers to the actions follow it as inputs.

Before that, each live order the venue holds is handed to the exchange to watch (`track`: a stop
of the previous process that the venue later cancels or expires is then reported, so the core
re-places it), and an order the venue filled (or partly filled) while its fill went unrecorded
gets its fills recorded first (`order_fills`, the venue's trade ids): the core then protects an
entry that filled just before a crash at once, not a bar later.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import msgspec

from cli.loop import REPLACING, RunLoop, is_stale_entry
from exchange.port import Exchange, OrderStatus
from journal.events import (
    Event, OrderCanceled, OrderCancelRequested, OrderFilled, OrderSubmitted, ReconcileObserved,
)

ENDED = ("canceled", "expired", "rejected")


class Intents:
    """The latest order intent and cancel request per client id, collected while rebuilding."""

    def __init__(self) -> None:
        self.submitted: dict[str, OrderSubmitted] = {}
        self.cancels: dict[str, OrderCancelRequested] = {}
        self.fill_ids: set[str] = set()

    def observe(self, event: Event) -> None:
        kind = type(event)
        if kind is OrderSubmitted:
            self.submitted[event.client_id] = event
        elif kind is OrderCancelRequested:
            self.cancels[event.client_id] = event
        elif kind is OrderFilled:
            self.fill_ids.add(event.fill_id)


def reconcile(loop: RunLoop, exchange: Exchange, symbols: Sequence[str], intents: Intents, ts: int) -> None:
    """Observe the venue, record what differs and what is done, then do it."""
    seen = _track_and_fill(loop, exchange, intents, ts)
    live_orders: dict[str, Any] = dict(getattr(loop.state, "orders", {}) or {})  # after the fills
    prefix = getattr(loop.state, "prefix", None)
    differences: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    followups: list[tuple[str, Event]] = []
    for client_id in sorted(live_orders):
        rec = live_orders[client_id]
        venue = seen[client_id] if client_id in seen else exchange.fetch_order(client_id, rec.symbol)
        if venue is None:
            if rec.cancel_requested:
                differences.append(_diff(client_id, rec.symbol, "not at the venue (cancel was requested)"))
                followups.append(("record", OrderCanceled(ts=ts, client_id=client_id, symbol=rec.symbol,
                                                          reason="reconcile_missing")))
            elif client_id in intents.submitted and is_stale_entry(intents.submitted[client_id], ts, loop.params):
                differences.append(_diff(client_id, rec.symbol, "entry intent never reached the venue and is stale"))
                followups.append(("record", OrderCanceled(ts=ts, client_id=client_id, symbol=rec.symbol,
                                                          reason="reconcile_stale")))
            elif client_id in intents.submitted:
                differences.append(_diff(client_id, rec.symbol, "intent durable but never reached the venue"))
                followups.append(("send", intents.submitted[client_id]))
        elif venue.status == "open" and rec.cancel_requested and client_id in intents.cancels:
            cancel = intents.cancels[client_id]
            held = _cancel_once_replaced(loop, exchange, seen, cancel, followups, cancel.reason in REPLACING)
            differences.append(_diff(client_id, rec.symbol, "replaced stop kept until its replacement rests" if held
                                     else "cancel requested but the order is still open"))
        elif venue.status == "open" and _superseded_stop(loop, client_id, rec):
            # A torn tail kept the new stop's intent but lost the old stop's cancel.
            differences.append(_diff(client_id, rec.symbol, "a stop the symbol's current stop replaced"))
            cancel = OrderCancelRequested(ts=ts, client_id=client_id, symbol=rec.symbol, reason="reconcile_superseded")
            _cancel_once_replaced(loop, exchange, seen, cancel, followups, True)
        elif venue.status in ENDED:
            differences.append(_diff(client_id, rec.symbol, f"{venue.status} at the venue while we were down"))
            followups.append(("record", OrderCanceled(ts=ts, client_id=client_id, symbol=rec.symbol,
                                                      reason=f"reconcile_{venue.status}")))
    for symbol in symbols:
        for order in exchange.open_orders(symbol):
            if order.client_id not in live_orders and prefix and order.client_id.startswith(prefix):
                differences.append(_diff(order.client_id, symbol, "open at the venue, unknown to the journal"))
                followups.append(("cancel", OrderCancelRequested(ts=ts, client_id=order.client_id, symbol=symbol,
                                                                 reason="reconcile_orphan")))
    for verb, event in followups:
        actions.append({"action": verb, "client_id": event.client_id, "symbol": event.symbol})
    loop.process([_observed(exchange, symbols, ts, differences, actions)])
    for verb, event in followups:
        loop.process(_act(exchange, verb, event))


def _track_and_fill(loop: RunLoop, exchange: Exchange, intents: Intents, ts: int) -> dict[str, OrderStatus | None]:
    """Each live journal order as the venue sees it. The ones it holds are watched from now on;
    fills the journal misses are recorded (in venue order) before anything else is decided."""
    seen: dict[str, OrderStatus | None] = {}
    answers: list[Event] = []
    for client_id, rec in sorted((getattr(loop.state, "orders", {}) or {}).items()):
        seen[client_id] = venue = exchange.fetch_order(client_id, rec.symbol)
        intent = intents.submitted.get(client_id)
        if venue is None or intent is None:
            continue
        exchange.track(intent, venue)
        if venue.filled_qty > 0 or venue.status == "filled":
            answers.extend(a for a in exchange.order_fills(intent, ts)
                           if type(a) is not OrderFilled or a.fill_id not in intents.fill_ids)
    fills = sorted((a for a in answers if type(a) is OrderFilled), key=lambda f: (f.ts, _trade_no(f.fill_id)))
    loop.process([*(a for a in answers if type(a) is not OrderFilled), *fills])
    return seen


def _superseded_stop(loop: RunLoop, client_id: str, rec: Any) -> bool:
    """A live stop of ours that is not its symbol's current stop, with no cancel recorded."""
    sym = loop.state.sym.get(rec.symbol)
    return (rec.purpose == "stop" and not rec.cancel_requested and sym is not None and sym.pos is not None
            and sym.stop_id is not None and sym.stop_id != client_id)


def _cancel_once_replaced(loop: RunLoop, exchange: Exchange, seen: dict[str, OrderStatus | None],
                          cancel: OrderCancelRequested, followups: list[tuple[str, Event]],
                          make_before_break: bool) -> bool:
    """Cancel now, or, for a replaced stop whose replacement does not rest at the venue while the position
    is open (the old stop may be its only protection), hand the cancel to the loop, which sends it once
    the replacement rests (make before break across a restart). True when held."""
    if make_before_break and not _current_stop_rests(loop, exchange, seen, cancel.symbol):
        loop.held_cancels.setdefault(cancel.symbol, []).append(cancel)
        return True
    followups.append(("cancel", cancel))
    return False


def _current_stop_rests(loop: RunLoop, exchange: Exchange, seen: dict[str, OrderStatus | None],
                        symbol: str) -> bool:
    """True when the symbol holds no position, or its current stop is open at the venue."""
    sym = loop.state.sym.get(symbol)
    if sym is None or sym.pos is None:
        return True
    if sym.stop_id is None:
        return False
    # a stop placed during this reconciliation (after a recorded fill resized it) is not in the first snapshot
    current = seen[sym.stop_id] if sym.stop_id in seen else exchange.fetch_order(sym.stop_id, symbol)
    return current is not None and current.status == "open"


def _trade_no(fill_id: str) -> int:
    tail = fill_id.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _act(exchange: Exchange, verb: str, event: Event) -> Iterable[Event]:
    if verb == "send":
        return exchange.submit(event)  # type: ignore[arg-type]
    if verb == "cancel":
        return exchange.cancel(event)  # type: ignore[arg-type]
    return [event]


def _diff(client_id: str, symbol: str, found: str) -> dict[str, Any]:
    return {"client_id": client_id, "symbol": symbol, "found": found}


def _observed(exchange: Exchange, symbols: Sequence[str], ts: int, differences: list, actions: list) -> ReconcileObserved:
    orders = [msgspec.to_builtins(o) for symbol in symbols for o in exchange.open_orders(symbol)]
    return ReconcileObserved(ts=ts, positions=[msgspec.to_builtins(p) for p in exchange.positions()],
                             open_orders=orders, equity=exchange.equity(), differences=differences, actions=actions)
