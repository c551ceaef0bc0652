"""A per-call collector of decisions that numbers client order ids as it goes.

Local to one `decide` call (never stored): decisions in one call need consecutive
counters before `evolve` has folded any of them.
"""
from __future__ import annotations

from journal.events import Event, OrderCancelRequested, OrderSubmitted
from machine.ids import client_id_prefix, make_client_id
from machine.rounding import round_to
from machine.state import State, market_of


class Out:
    __slots__ = ("events", "prefix", "counter", "state")

    def __init__(self, state: State, events: list[Event] | None = None):
        self.events: list[Event] = events if events is not None else []
        self.prefix = client_id_prefix(state)
        self.counter = state.counter
        self.state = state

    def add(self, event: Event) -> None:
        self.events.append(event)

    def order(
        self,
        ts: int,
        symbol: str,
        side: str,
        kind: str,
        qty: float,
        purpose: str,
        stop_price: float | None = None,
        reduce_only: bool = False,
    ) -> str:
        self.counter += 1
        client_id = make_client_id(self.prefix, purpose, self.counter)
        # A position's qty is a float sum of step multiples (pyramids, partial fills): send the venue the
        # exact step multiple (7.883, not 7.883000000000001), rounded to the step's decimals.
        qty = round_to(qty, market_of(self.state, symbol).step_dec)
        self.events.append(
            OrderSubmitted(
                ts=ts,
                client_id=client_id,
                symbol=symbol,
                side=side,  # type: ignore[arg-type]
                order_kind=kind,  # type: ignore[arg-type]
                qty=qty,
                purpose=purpose,  # type: ignore[arg-type]
                stop_price=stop_price,
                reduce_only=reduce_only,
            )
        )
        return client_id

    def cancel(self, ts: int, symbol: str, client_id: str | None, reason: str) -> None:
        if client_id is not None:
            self.events.append(OrderCancelRequested(ts=ts, client_id=client_id, symbol=symbol, reason=reason))


def close_side(position_side: str) -> str:
    return "sell" if position_side == "long" else "buy"


def open_side(position_side: str) -> str:
    return "buy" if position_side == "long" else "sell"
