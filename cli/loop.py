"""The one run loop shared by backtest, paper and live (DESIGN.md "Decider shape").

For each closed candle: the exchange reports what happened to our orders during the
bar (`advance`), then whatever was placed intrabar gets the rest of the bar
(`bar_closed`), then the core sees the close. Every input is recorded together with
the decisions it produced (so replay can pair them), and order intents reach the
exchange only after that record is durable when `durable` is set (live, paper-live).
Exchange answers are inputs again, processed first-in first-out. Nothing here knows
whether the exchange is simulated: that is decided in `cli.bootstrap`.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable, Iterable, Protocol, Sequence

from exchange.port import Exchange
from journal.events import (
    CandleClosed, Event, OrderAccepted, OrderCanceled, OrderCancelRequested, OrderFilled, OrderRejected, OrderSubmitted,
    SessionStarted, kind_of,
)
from machine.decider import initial_state, step
from machine.params import Params

Observer = Callable[[Event], None]
BATCH_EVENTS = 1024
"""Non-durable records are appended in batches this large (one journal call each). Small enough that the
journal's committer thread is never far behind (a backtest's close waits ≈ 1 ms for it, 3.5 ms at 4,096),
large enough that the per-call cost does not show."""
_ACTION_TYPES = (OrderSubmitted, OrderCancelRequested)
_ANSWER_TYPES = (OrderAccepted, OrderRejected, OrderFilled, OrderCanceled)
"""A venue's answer to an order: after one, the order's state is known."""


class JournalSink(Protocol):
    def append(self, events: Sequence[Event], durable: bool = False) -> Any: ...

    def flush(self) -> None: ...


class RunLoop:
    """Feeds inputs to the core, records inputs + decisions, executes intents."""

    def __init__(self, *, exchange: Exchange, journal: JournalSink, params: Params, durable: bool,
                 state: Any = None, observers: Iterable[Observer] = (),
                 on_order_sent: Callable[[OrderSubmitted], None] | None = None,
                 market_now: Callable[[], int | None] | None = None) -> None:
        self.exchange = exchange
        self.journal = journal
        self.params = params
        self.durable = durable
        self.state = state if state is not None else initial_state(params)
        self.observers = tuple(observers)
        self.on_order_sent = on_order_sent
        self.market_now = market_now  # live: the newest closed bar's close, so bars fed late send no old entries
        self.inputs = 0
        self.already_recorded: set[tuple] = set()
        self._pending: list[Event] = []  # recorded in order, appended in batches
        self.unanswered: dict[str, OrderSubmitted] = {}  # durable intents the venue never answered
        self.held_cancels: dict[str, list[OrderCancelRequested]] = {}  # replaced stops kept until the new one rests

    def start(self, session: SessionStarted) -> None:
        """Record the session, then the venue rules of every symbol."""
        self.process([session])
        self.process(self.exchange.load_markets(session.symbols, session.ts))

    def feed(self, candle: CandleClosed) -> None:
        """One closed bar through the exchange and the core."""
        if self.unanswered:
            now = candle.ts
            newest_close = self.market_now() if self.market_now is not None else None
            if newest_close is not None:  # a catch-up feeds old bars: staleness is judged by the newest one
                now = max(now, newest_close - self.params.bar_ms)
            self.resend_unanswered(now)
        answers = self.exchange.advance(candle)
        if answers:
            self.process(self._fresh(answers))
        answers = self.exchange.bar_closed(candle)
        if answers:
            self.process(self._fresh(answers))
        answers = self._handle(candle)
        if answers:
            self.process(answers)

    def _fresh(self, answers: list[Event]) -> list[Event]:
        """Drop answers the journal already holds: after a crash mid-bar the venue
        reports that bar again (same answers), but each fact is recorded once."""
        if not self.already_recorded:
            return answers
        fresh = []
        for answer in answers:
            key = answer_key(answer)
            if key in self.already_recorded:
                self.already_recorded.discard(key)
            else:
                fresh.append(answer)
        return fresh

    def process(self, inputs: Iterable[Event]) -> None:
        """Run inputs (and every answer they provoke) through the core, FIFO."""
        queue = deque(inputs)
        while queue:
            answers = self._handle(queue.popleft())
            if answers:
                queue.extend(answers)

    def resend_unanswered(self, now: int) -> None:
        """An intent whose every attempt failed before the venue answered (5xx, bans, timeouts
        past the retries) may never have reached it: the core believes the order is live, so
        a stop would be missing. Send it again, same client id (the adapter looks it up first,
        so it is never placed twice), until the venue answers or the core cancels it.
        An entry or pyramid add whose bar is long gone is not sent: when the venue confirms it
        never arrived, it is recorded as canceled (`stale_intent`) and the core moves on."""
        for order in list(self.unanswered.values()):
            if is_stale_entry(order, now, self.params):
                arrived = self._arrived(order)
                if arrived is None:
                    continue  # the venue cannot tell now: a stale entry is never sent blind; ask next bar
                if not arrived:
                    del self.unanswered[order.client_id]
                    self.process([OrderCanceled(ts=now, client_id=order.client_id, symbol=order.symbol,
                                                reason="stale_intent")])
                    continue
            answers = self.exchange.submit(order)
            if _settles(answers, order.client_id):
                del self.unanswered[order.client_id]
            if answers:
                self.process(answers)

    def _arrived(self, order: OrderSubmitted) -> bool | None:
        """Whether the venue holds the order; None when it cannot tell now (the lookup failed)."""
        try:
            return self.exchange.fetch_order(order.client_id, order.symbol) is not None
        except Exception:  # noqa: BLE001 - a failed lookup proves nothing either way
            return None

    def _handle(self, event: Event) -> list[Event]:
        """One input: step the core, record input + decisions, execute the intents.
        Returns the venue's answers (inputs still to process)."""
        if self.unanswered and type(event) in _ANSWER_TYPES:
            self.unanswered.pop(event.client_id, None)
        self.state, decisions = step(self.state, event, self.params)
        self.inputs += 1
        pending = self._pending
        pending.append(event)
        if not decisions:  # the common case: a quiet bar
            if self.durable and type(event) is not CandleClosed:
                self.flush(durable=True)
            elif len(pending) >= BATCH_EVENTS:
                self.flush(durable=False)
            for observer in self.observers:
                observer(event)
            return self._release_replaced(event) if self.held_cancels else []
        pending.extend(decisions)
        actions = [d for d in decisions if type(d) in _ACTION_TYPES]
        # Durable before any order leaves, and for every venue answer (the venue has
        # moved on). A quiet candle may wait in the batch: re-feeding it is harmless.
        if self.durable and (actions or type(event) is not CandleClosed):
            self.flush(durable=True)
        elif len(pending) >= BATCH_EVENTS:
            self.flush(durable=False)
        for observer in self.observers:
            observer(event)
            for decision in decisions:
                observer(decision)
        answers = self._release_replaced(event) if self.held_cancels else []
        if not actions:  # decisions that only record (an equity mark, a filtered signal)
            return answers
        resting: dict[str, bool] = {}  # symbol -> the stop placed in this batch rests at the venue
        for action in actions:
            if type(action) is OrderSubmitted:
                if self.market_now is not None and is_stale_entry(action, self.market_now(), self.params):
                    # Decided on a bar fed late (catch-up after an outage): the market has moved on.
                    answers.append(OrderCanceled(ts=action.ts, client_id=action.client_id, symbol=action.symbol,
                                                 reason="stale_intent"))
                    continue
                if self.on_order_sent is not None:
                    self.on_order_sent(action)
                got = self.exchange.submit(action)
                if not _settles(got, action.client_id):
                    self.unanswered[action.client_id] = action
                if action.purpose == "stop":
                    resting[action.symbol] = _settles(got, action.client_id, _RESTING_TYPES)  # accepted or filled
                answers.extend(got)
            elif action.reason in REPLACING and resting.get(action.symbol) is False:
                # Make before break: the stop being replaced keeps protecting the position until its
                # replacement rests at the venue (the replacement may be unanswered, or refused).
                self.unanswered.pop(action.client_id, None)  # but it is never sent again: the core dropped it
                self.held_cancels.setdefault(action.symbol, []).append(action)
            else:
                self.unanswered.pop(action.client_id, None)  # never resend what the core now cancels
                answers.extend(self.exchange.cancel(action))
        return answers

    def _release_replaced(self, event: Event) -> list[Event]:
        """Send the held cancels of a symbol once its current stop rests at the venue, or once it holds
        no position (the old stop would otherwise linger, reduce-only, under a later position)."""
        symbol = getattr(event, "symbol", None)
        held = self.held_cancels.get(symbol) if symbol is not None else None
        if not held or type(event) not in _ANSWER_TYPES:
            return []
        sym = self.state.sym.get(symbol)
        if sym is not None and sym.pos is not None and not (
                type(event) in _RESTING_TYPES and event.client_id == sym.stop_id):
            return []
        del self.held_cancels[symbol]
        answers: list[Event] = []
        for cancel in held:
            self.unanswered.pop(cancel.client_id, None)
            answers.extend(self.exchange.cancel(cancel))
        return answers

    def flush(self, durable: bool = False) -> None:
        """Hand the batched records to the journal (fsync'd when `durable`)."""
        if self._pending:
            self.journal.append(self._pending, durable=durable)
            self._pending = []
        elif durable:
            self.journal.flush()


REPLACING = ("replaced", "resized")
"""Cancel reasons of a stop the core replaces with a new one (a trail move, a pyramid resize)."""


_RESTING_TYPES = (OrderAccepted, OrderFilled)


def _settles(answers: list[Event], client_id: str, kinds: tuple = _ANSWER_TYPES) -> bool:
    """True when one of the venue's answers (of `kinds`) is about order `client_id`."""
    for answer in answers:
        if type(answer) in kinds and answer.client_id == client_id:
            return True
    return False


def is_stale_entry(intent: OrderSubmitted, now: int | None, params: Params) -> bool:
    """An entry or pyramid add decided at a bar's close is only sent while that bar is the latest
    one: after a longer outage the market has moved on, and sending it would open a position
    the strategy did not choose, at other prices. Stops and exits are always sent (they protect).
    `now` None: the market time is not known yet (nothing is stale)."""
    return now is not None and intent.purpose in ("entry", "pyramid") and now >= intent.ts + 2 * params.bar_ms


def answer_key(event: Event) -> tuple:
    """Identity of a venue answer: a fill by its fill id, anything else by kind + order."""
    if isinstance(event, OrderFilled):
        return ("fill", event.fill_id)
    return (kind_of(event), getattr(event, "client_id", None), getattr(event, "reason", None), event.ts)


class Stopwatch:
    """Wall-time latency from 'candle available' to each order handed to the exchange.

    Shell-only instrumentation (never journaled): feeds the decision-latency figures."""

    def __init__(self) -> None:
        self.started_ns = 0
        self.samples_ms: list[float] = []

    def candle_available(self) -> None:
        self.started_ns = time.perf_counter_ns()

    def order_sent(self, _order: OrderSubmitted) -> None:
        if self.started_ns:
            self.samples_ms.append((time.perf_counter_ns() - self.started_ns) / 1e6)
