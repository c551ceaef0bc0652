"""A small reference venue and run loop for the core's own tests and benchmark.

Not the paper exchange (that adapter lives in `exchange/`): this is the execution
model of DESIGN.md in its plainest form, so core scenarios can be driven end to end
without the shell. Market orders fill at the next bar's open (+/- slippage); resting
stops/take-profits fill at their price inside [low, high], or at the open when the
bar gaps through. Orders placed while a bar's answers are processed (the stop after
an entry fill) are checked against the rest of that bar in `bar_closed`.
Deterministic: no clock, no randomness.
"""
from __future__ import annotations

from typing import Callable, Iterable

from journal import events as ev
from machine.decider import State, step
from machine.params import Params
from machine.state import snapshot


class SimVenue:
    def __init__(self, params: Params):
        self.params = params
        self.pending: list[ev.OrderSubmitted] = []  # market orders, fill at the next open
        self.resting: list[ev.OrderSubmitted] = []  # stop / take-profit orders
        self.fresh: list[ev.OrderSubmitted] = []  # resting orders placed during the current bar
        self.position: dict[str, float] = {}  # signed qty per symbol
        self.in_bar: ev.CandleClosed | None = None
        self.reject_purposes: set[str] = set()
        # Late remainders (a live venue's race): an entry/pyramid fills half at the open and the rest at
        # the next open, and a cancel of that rest comes too late. "silent": the cancel gets no answer;
        # "rejected": it is answered unknown_order (-2011) before the rest fills.
        self.late_remainders = ""
        self.remainders: set[str] = set()

    def submit(self, order: ev.OrderSubmitted) -> list[ev.Event]:
        if order.purpose in self.reject_purposes:
            return [ev.OrderRejected(ts=order.ts, client_id=order.client_id, symbol=order.symbol, reason="rejected")]
        if order.order_kind == "market":
            self.pending.append(order)
        elif self.in_bar is not None and self.in_bar.symbol == order.symbol:
            self.fresh.append(order)
        else:
            self.resting.append(order)
        return [ev.OrderAccepted(ts=order.ts, client_id=order.client_id, symbol=order.symbol)]

    def cancel(self, req: ev.OrderCancelRequested) -> list[ev.Event]:
        if req.client_id in self.remainders:
            if self.late_remainders == "rejected":
                return [ev.OrderRejected(ts=req.ts, client_id=req.client_id, symbol=req.symbol,
                                         reason="unknown_order", code=-2011)]
            return []
        for book in (self.pending, self.resting, self.fresh):
            for order in book:
                if order.client_id == req.client_id:
                    book.remove(order)
                    return [ev.OrderCanceled(ts=req.ts, client_id=req.client_id, symbol=req.symbol)]
        return []

    def _fill(self, order: ev.OrderSubmitted, price: float, ts: int, qty: float | None = None,
              part: int = 1) -> list[ev.Event]:
        signed = self.position.get(order.symbol, 0.0)
        qty = order.qty if qty is None else qty
        if order.reduce_only:  # only ever toward zero, never past it, never on the wrong side
            reduces = (signed > 0 and order.side == "sell") or (signed < 0 and order.side == "buy")
            qty = min(qty, abs(signed)) if reduces else 0.0
            if qty <= 0:
                return [ev.OrderCanceled(ts=ts, client_id=order.client_id, symbol=order.symbol, reason="expired")]
        self.position[order.symbol] = round(signed + (qty if order.side == "buy" else -qty), 9)  # no float dust
        return [ev.OrderFilled(ts=ts, client_id=order.client_id, symbol=order.symbol, fill_id=f"{order.client_id}-{part}",
                               side=order.side, qty=qty, price=price, fee=qty * price * self.params.fee_rate,
                               purpose=order.purpose)]

    def advance(self, candle: ev.CandleClosed) -> list[ev.Event]:
        self.in_bar = candle
        out: list[ev.Event] = []
        slip = self.params.slippage_bps / 10_000.0
        for order in [o for o in self.pending if o.symbol == candle.symbol]:
            self.pending.remove(order)
            price = candle.open * (1 + slip) if order.side == "buy" else candle.open * (1 - slip)
            out += self._fill_market(order, price, candle.ts)
        out += self._trigger(self.resting, candle, gap_open=True)
        return out

    def _fill_market(self, order: ev.OrderSubmitted, price: float, ts: int) -> list[ev.Event]:
        if order.client_id in self.remainders:
            self.remainders.discard(order.client_id)
            done = _half(order.qty)
            return self._fill(order, price, ts, qty=round(order.qty - done, 9), part=2)
        half = _half(order.qty)
        if self.late_remainders and order.purpose in ("entry", "pyramid") and half > 0:
            self.remainders.add(order.client_id)
            self.pending.append(order)  # the rest fills at the next open
            return self._fill(order, price, ts, qty=half)
        return self._fill(order, price, ts)

    def bar_closed(self, candle: ev.CandleClosed) -> list[ev.Event]:
        out = self._trigger(self.fresh, candle, gap_open=False)
        self.resting += self.fresh
        self.fresh = []
        self.in_bar = None
        return out

    def _trigger(self, book: list[ev.OrderSubmitted], c: ev.CandleClosed, gap_open: bool) -> list[ev.Event]:
        out: list[ev.Event] = []
        ordered = sorted((o for o in book if o.symbol == c.symbol), key=lambda o: o.purpose != "stop")
        for order in ordered:
            level = order.stop_price
            assert level is not None
            sell_stop = order.side == "sell" and order.order_kind == "stop_market"
            buy_tp = order.side == "buy" and order.order_kind == "take_profit_market"
            if sell_stop or buy_tp:  # triggers when price falls to the level
                if c.low > level:
                    continue
                price = min(c.open, level) if gap_open else level
            else:  # buy stop / sell take-profit: triggers when price rises to the level
                if c.high < level:
                    continue
                price = max(c.open, level) if gap_open else level
            book.remove(order)
            out += self._fill(order, price, c.ts)
        return out


def _half(qty: float) -> float:
    """Half of a quantity on the default 0.001 step, rounded down (0 when it cannot be split)."""
    return round(int(qty * 500 + 1e-9) / 1000, 3)


def run_loop(state: State, params: Params, inputs: Iterable[ev.Event], venue: SimVenue,
             observe: Callable[[State, ev.Event, list[ev.Event]], None] | None = None) -> tuple[State, list[ev.Event]]:
    """The shell's loop in miniature: per candle, intrabar answers first, then the close.
    Returns the final state and every event in journal order (inputs and decisions).
    `observe(state_before, input, decisions)` lets property tests watch every step."""
    journal: list[ev.Event] = []

    def feed(event: ev.Event) -> None:
        nonlocal state
        journal.append(event)
        before = snapshot(state) if observe is not None else state  # the fold updates `state` in place
        state, decisions = step(state, event, params)
        if observe is not None:
            observe(before, event, decisions)
        journal.extend(decisions)
        for decision in decisions:
            if isinstance(decision, ev.OrderSubmitted):
                answers = venue.submit(decision)
            elif isinstance(decision, ev.OrderCancelRequested):
                answers = venue.cancel(decision)
            else:
                continue
            for answer in answers:
                feed(answer)

    for event in inputs:
        if isinstance(event, ev.CandleClosed):
            for answer in venue.advance(event):
                feed(answer)
            for answer in venue.bar_closed(event):
                feed(answer)
        feed(event)
    return state, journal
