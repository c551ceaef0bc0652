"""The paper exchange: a simulated USDⓈ-M venue behind the `Exchange` port.

Rules (README "Backtest, replay and baseline"): market orders fill at the next bar's
open; stops and take-profits fill at their level or at the open when the bar gapped
beyond it; stops are checked before take-profits, and once a protective stop filled
in a bar no exposure-adding conditional order triggers in that bar (the stop wins);
orders placed between `advance` and `bar_closed` are live for the rest of the bar,
later ones rest until the next bar. Fills are timestamped with the bar's open time.
Reduce-only orders never flip a position; they are canceled when it closes.
"""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Sequence

from mypy_extensions import mypyc_attr

from exchange import paper_state
from exchange.paper_checks import refusal_of
from exchange.paper_fills import (
    CONDITIONAL_KINDS, EVALUATION_ORDER, apply_fill, conditional_fill_price, reducible_qty, slipped, unrealized,
)
from exchange.paper_markets import MarketRules, rules_for
from exchange.paper_state import DUST, BarAnswers, PaperOrder, PaperPosition, PaperState
from exchange.port import OrderStatus, PositionStatus
from journal.events import (
    CandleClosed, Event, MarketLoaded, OrderAccepted, OrderCanceled, OrderCancelRequested,
    OrderFilled, OrderRejected, OrderSubmitted,
)


KEEP_ENDED = 500
"""Filled/canceled orders remembered for `fetch_order` (restart reconciliation looks back a few bars)."""


@mypyc_attr(allow_interpreted_subclasses=True)  # tests and fault injection subclass the venue
class PaperExchange:
    """Simulated venue. With `state_path` every change is saved atomically (restartable)."""

    name: ClassVar[str] = "paper"  # a class attribute when compiled too (not a per-instance default)

    def __init__(self, *, fee_rate: float = 0.0005, slippage_bps: float = 0.0, initial_equity: float = 10_000.0,
                 state_path: Path | None = None, markets: dict[str, MarketRules] | None = None) -> None:
        self.fee_rate = fee_rate
        self.slippage_bps = slippage_bps
        self.state_path = Path(state_path) if state_path is not None else None
        restored = paper_state.load(self.state_path) if self.state_path is not None else None
        self._state = restored or PaperState(initial_equity=initial_equity, cash=initial_equity)
        state = self._state
        # The state's per-bar dicts, held here too (the same objects, changed in place, never replaced): read
        # once per bar, and a compiled venue reads its own attributes directly but a Struct's by name lookup.
        self._advanced_ts = state.advanced_ts
        self._closed_ts = state.closed_ts
        self._bar_in_progress = state.bar_in_progress
        self._last_price = state.last_price
        self._stop_fired_bar = state.stop_fired_bar
        self._overrides = markets
        self._markets: dict[str, MarketRules] = {}
        self._open: dict[str, dict[str, PaperOrder]] = {}  # symbol -> open orders (index, not state)
        self._armed: dict[str, int] = {}  # symbol -> bar in which a conditional order was placed intrabar
        for order in sorted(self._state.orders.values(), key=lambda o: o.number):
            if order.status == "open":
                self._index(order)

    # ------------------------------------------------------------------ the port: market data and steps

    def load_markets(self, symbols: Sequence[str], ts: int) -> list[MarketLoaded]:
        loaded = []
        for symbol in symbols:
            rules = self._markets[symbol] = rules_for(symbol, self._overrides)
            loaded.append(MarketLoaded(ts=ts, symbol=symbol, tick_size=rules.tick_size, step_size=rules.step_size,
                                       min_qty=rules.min_qty, min_notional=rules.min_notional))
        return loaded

    def advance(self, candle: CandleClosed) -> list[Event]:
        """The bar traded: every open order of the symbol meets it from its open."""
        symbol, ts = candle.symbol, candle.ts
        last = self._advanced_ts.get(symbol)
        if last is not None and ts <= last:  # a restarted loop re-feeds a bar: same answers
            return _answers_again(self._state.advanced, symbol, ts)
        self._advanced_ts[symbol] = ts
        orders = self._open.get(symbol)
        events = self._run_orders(candle, self._in_evaluation_order(orders)) if orders else []
        self._bar_in_progress[symbol] = ts
        self._last_price[symbol] = candle.open
        if events:  # a quiet bar changes nothing a restart could miss: no write
            self._remember(self._state.advanced, symbol, ts, events)
        return events

    def bar_closed(self, candle: CandleClosed) -> list[Event]:
        """The rest of the bar, for the conditional orders placed in it (between advance and now)."""
        symbol, ts = candle.symbol, candle.ts
        last = self._closed_ts.get(symbol)
        if last is not None and ts <= last:
            return _answers_again(self._state.closed, symbol, ts)
        self._closed_ts[symbol] = ts
        events: list[Event] = []
        if self._armed.get(symbol) == ts:
            armed = [o for o in self._in_evaluation_order(self._open.get(symbol)) if o.armed_bar == ts]
            events = self._run_orders(candle, armed)
        self._bar_in_progress.pop(symbol, None)
        self._last_price[symbol] = candle.close
        if events:
            self._remember(self._state.closed, symbol, ts, events)
        return events

    def _remember(self, answered: dict[str, BarAnswers], symbol: str, ts: int, events: list[Event]) -> None:
        """Keep the bar's answers (and save them) so a re-fed bar gets the same ones."""
        answered[symbol] = BarAnswers(ts=ts, events=events)
        self._persist()

    def submit(self, order: OrderSubmitted) -> list[Event]:
        state = self._state
        if order.client_id in state.orders:
            return [OrderRejected(ts=order.ts, client_id=order.client_id, symbol=order.symbol, reason="duplicate",
                                  code=-4116, message="client order id already used")]
        candidate = PaperOrder(
            client_id=order.client_id, exchange_id=f"P{state.order_count + 1}", symbol=order.symbol,
            side=order.side, order_kind=order.order_kind, qty=order.qty, purpose=order.purpose,
            number=state.order_count + 1, price=order.price, stop_price=order.stop_price,
            reduce_only=order.reduce_only, armed_bar=self._bar_in_progress.get(order.symbol))
        refusal = refusal_of(candidate, self._markets.get(order.symbol), self._last_price.get(order.symbol))
        if refusal is not None:
            reason, code, message = refusal
            return [OrderRejected(ts=order.ts, client_id=order.client_id, symbol=order.symbol, reason=reason,
                                  code=code, message=message)]
        state.order_count += 1
        state.orders[order.client_id] = candidate
        self._index(candidate)
        if len(state.orders) > 2 * KEEP_ENDED:
            self._forget_old_ended()
        self._persist()
        return [OrderAccepted(ts=order.ts, client_id=order.client_id, symbol=order.symbol,
                              exchange_id=candidate.exchange_id)]

    def cancel(self, request: OrderCancelRequested) -> list[Event]:
        order = self._state.orders.get(request.client_id)
        if order is None or order.status != "open":
            status = "never placed" if order is None else order.status
            return [OrderRejected(ts=request.ts, client_id=request.client_id, symbol=request.symbol,
                                  reason="unknown_order", code=-2011, message=f"order is {status}")]
        self._end(order, "canceled")
        self._persist()
        return [OrderCanceled(ts=request.ts, client_id=order.client_id, symbol=order.symbol, reason=request.reason)]

    # ------------------------------------------------------------------ the port: queries (reconciliation)

    def fetch_order(self, client_id: str, symbol: str) -> OrderStatus | None:
        order = self._state.orders.get(client_id)
        return _status_of(order) if order is not None and order.symbol == symbol else None

    def open_orders(self, symbol: str) -> list[OrderStatus]:
        return [_status_of(o) for o in self._open_orders_of(symbol)]

    def track(self, order: OrderSubmitted, status: OrderStatus) -> None:
        """Nothing to do: the paper venue's own (persisted) book is what `advance` works on."""

    def order_fills(self, order: OrderSubmitted, ts: int) -> list[Event]:
        """None: paper fills happen in `advance`, which answers a re-fed bar again."""
        return []

    def positions(self) -> list[PositionStatus]:
        return [PositionStatus(symbol=symbol, side="long" if p.qty > 0 else "short", qty=abs(p.qty),
                               entry_price=p.entry_price)
                for symbol, p in sorted(self._state.positions.items()) if abs(p.qty) > DUST]

    def equity(self, mark_to_market: bool = False) -> float:
        """Wallet equity: initial + realized pnl - fees (+ unrealized at the last price when asked)."""
        cash = self._state.cash
        if not mark_to_market:
            return cash
        return cash + sum(unrealized(p, self._last_price.get(s, p.entry_price))
                          for s, p in self._state.positions.items())

    # ------------------------------------------------------------------ internals

    def _open_orders_of(self, symbol: str) -> list[PaperOrder]:
        return self._in_evaluation_order(self._open.get(symbol))

    @staticmethod
    def _in_evaluation_order(orders: dict[str, PaperOrder] | None) -> list[PaperOrder]:
        """Market first, then stops, take-profits, limits; ties by submission number."""
        if not orders:
            return []
        if len(orders) == 1:  # the usual case (one protective stop): nothing to sort
            return list(orders.values())
        return sorted(orders.values(), key=lambda o: (EVALUATION_ORDER[o.order_kind], o.number))

    def _index(self, order: PaperOrder) -> None:
        self._open.setdefault(order.symbol, {})[order.client_id] = order
        if order.armed_bar is not None and order.order_kind in CONDITIONAL_KINDS:
            self._armed[order.symbol] = max(order.armed_bar, self._armed.get(order.symbol, order.armed_bar))

    def _end(self, order: PaperOrder, status: str) -> None:
        order.status = status
        self._open.get(order.symbol, {}).pop(order.client_id, None)

    def _run_orders(self, candle: CandleClosed, orders: list[PaperOrder]) -> list[Event]:
        events: list[Event] = []
        for order in orders:
            if order.status != "open":  # canceled earlier in this bar (its position closed)
                continue
            if order.order_kind == "market":
                price: float | None = candle.open
            else:
                if not order.reduce_only and self._stop_fired_bar.get(candle.symbol) == candle.ts:
                    continue  # the stop wins: no add or entry triggers in the bar a stop filled
                price = conditional_fill_price(order, candle.open, candle.high, candle.low)
            if price is not None:
                events.extend(self._execute(order, price, candle.ts))
        return events

    def _execute(self, order: PaperOrder, raw_price: float, ts: int) -> list[Event]:
        state = self._state
        held = state.positions.get(order.symbol, PaperPosition())
        wanted = order.qty - order.filled_qty
        qty = reducible_qty(held, order.side, wanted) if order.reduce_only else wanted
        if qty <= DUST:
            self._end(order, "expired")
            return [OrderCanceled(ts=ts, client_id=order.client_id, symbol=order.symbol, reason="reduce_only")]
        price = slipped(raw_price, order.side, self.slippage_bps)
        fee = qty * price * self.fee_rate
        position, realized = apply_fill(held, order.side, qty, price)
        state.positions[order.symbol] = position
        state.cash += realized - fee
        order.filled_qty += qty
        order.avg_price = price
        self._end(order, "filled" if qty >= wanted - DUST else "expired")
        events: list[Event] = [OrderFilled(
            ts=ts, client_id=order.client_id, symbol=order.symbol, fill_id=f"{order.client_id}-f1",
            side=order.side, qty=qty, price=price, fee=fee, purpose=order.purpose,
            cum_qty=order.filled_qty, order_qty=order.qty)]
        if order.status == "expired":
            events.append(OrderCanceled(ts=ts, client_id=order.client_id, symbol=order.symbol, reason="reduce_only"))
        reduced = abs(position.qty) < abs(held.qty) or (held.qty > 0) != (position.qty > 0)
        if order.order_kind == "stop_market" and abs(held.qty) > DUST and reduced:
            self._stop_fired_bar[order.symbol] = ts
        if abs(held.qty) > DUST and (abs(position.qty) <= DUST or (held.qty > 0) != (position.qty > 0)):
            events.extend(self._cancel_reduce_only(order.symbol, ts))
        return events

    def _cancel_reduce_only(self, symbol: str, ts: int) -> list[Event]:
        """The position closed (or flipped): its reduce-only orders can never execute."""
        events: list[Event] = []
        for other in self._open_orders_of(symbol):
            if other.reduce_only:
                self._end(other, "canceled")
                events.append(OrderCanceled(ts=ts, client_id=other.client_id, symbol=symbol,
                                            reason="position_closed"))
        return events

    def _forget_old_ended(self) -> None:
        """Keep the state file small: ended orders beyond the newest KEEP_ENDED are dropped
        (a restart only ever asks about recent ones; open orders are always kept)."""
        ended = sorted((o for o in self._state.orders.values() if o.status != "open"), key=lambda o: o.number)
        for order in ended[: max(0, len(ended) - KEEP_ENDED)]:
            del self._state.orders[order.client_id]

    def _persist(self) -> None:
        if self.state_path is not None:
            paper_state.save(self._state, self.state_path)


def _status_of(order: PaperOrder) -> OrderStatus:
    return OrderStatus(client_id=order.client_id, symbol=order.symbol, side=order.side,
                       order_kind=order.order_kind, qty=order.qty, filled_qty=order.filled_qty,
                       status=order.status, stop_price=order.stop_price, price=order.price,
                       avg_price=order.avg_price, reduce_only=order.reduce_only)


def _answers_again(answered: dict[str, BarAnswers], symbol: str, ts: int) -> list[Event]:
    """What the venue answered for an already-seen bar (nothing unless that bar had answers)."""
    memo = answered.get(symbol)
    return list(memo.events) if memo is not None and memo.ts == ts else []
