"""Prometheus metrics, derived from journal events.

`MetricsProjector.apply` folds journal records (or bare events) into the seed's
metrics, so a restarted bot replays its journal and resumes every counter where it
stopped. Live-only observations (loop/order latency, the loop heartbeat) have their
own methods, called by the live loop. Labels stay low-cardinality: symbols outside
the configured universe become "other"; reasons are the events' short codes.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from journal.events import (
    ClockObserved,
    DailyAnchorReset,
    EmergencyAction,
    EntryPlanned,
    EquityMarked,
    EquityObserved,
    ErrorObserved,
    Event,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    PositionClosed,
    SignalDetected,
)

ORDER_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOOP_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
R_WINDOW = 30
FLATTEN_FAILED = "failed"
FLATTEN_SKIPPED = "skipped"


def _wall_seconds(record: Any) -> float | None:
    """Recording wall time of a journal record in epoch seconds, if the envelope has one."""
    for name in ("wall_ms", "recorded_ms", "wall_ts", "recorded_at"):
        value = getattr(record, name, None)
        if isinstance(value, (int, float)):
            return value / 1000.0 if value > 1e11 else float(value)
    return None


class BotMetrics:
    """Every metric the seed names, on one registry (labels exactly as the seed lists them)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.equity = Gauge("bot_equity", "Live equity in quote currency", ["account"], registry=registry)
        self.daily_drawdown = Gauge(
            "bot_daily_drawdown", "Drawdown from the UTC-day anchor (0..1)", ["account"], registry=registry
        )
        self.avg_r_atr_30 = Gauge(
            "bot_avg_r_atr_30", "Mean R (price move / ATR at entry) over the last 30 exits", ["account"],
            registry=registry,
        )
        self.signal_emitted = Counter(
            "bot_signal_emitted", "Accepted breakout signals", ["symbol", "timeframe"], registry=registry
        )
        self.trade_count = Counter("bot_trade_count", "Closed trades", ["account"], registry=registry)
        self.order_errors = Counter(
            "bot_order_errors", "Order rejections and exchange errors", ["account", "reason"], registry=registry
        )
        self.time_drift_ms = Gauge(
            "bot_time_drift_ms", "Exchange clock minus local clock (ms)", ["source"], registry=registry
        )
        self.heartbeat_ts = Gauge("bot_heartbeat_ts", "Last heartbeat, epoch seconds", registry=registry)
        self.flatten_failures = Counter(
            "flatten_failures", "Unsuccessful emergency-flatten outcomes", ["account", "reason"], registry=registry
        )
        self.flatten_partial = Counter(
            "flatten_partial", "Skipped or partial emergency-flatten outcomes", ["account", "reason"],
            registry=registry,
        )
        self.tp_orders_placed = Counter(
            "tp_orders_placed", "Take-profit orders placed", ["account", "symbol", "side"], registry=registry
        )
        self.tp_fills = Counter(
            "tp_fills", "Take-profit fills", ["account", "symbol", "side", "reason"], registry=registry
        )
        self.order_latency = Histogram(
            "order_latency_seconds", "Order submit-to-answer latency", ["account", "kind"],
            buckets=ORDER_LATENCY_BUCKETS, registry=registry,
        )
        self.loop_latency = Histogram(
            "bot_loop_latency_seconds", "Duration of one live-loop poll", buckets=LOOP_LATENCY_BUCKETS,
            registry=registry,
        )


class MetricsProjector:
    """Fold journal records into BotMetrics. Idempotent per seq: a record seen twice counts once."""

    def __init__(self, registry: CollectorRegistry, account: str, timeframe: str, universe: Iterable[str]) -> None:
        self.metrics = BotMetrics(registry)
        self.account = account
        self.timeframe = timeframe
        self.universe = frozenset(universe)
        self.last_seq = -1
        self._anchor: float | None = None
        self._equity: float | None = None
        self._entry_atr: dict[str, float] = {}
        self._recent_r: deque[float] = deque(maxlen=R_WINDOW)
        self._submitted: dict[str, tuple[str, float]] = {}

    def symbol_label(self, symbol: str | None) -> str:
        return symbol if symbol in self.universe else "other"

    def apply(self, record_or_event: Any) -> None:
        """Apply one journal record (with .seq/.event) or a bare Event."""
        if isinstance(record_or_event, Event):
            event, seq, wall = record_or_event, None, None
        else:
            event = record_or_event.event
            seq = getattr(record_or_event, "seq", None)
            wall = _wall_seconds(record_or_event)
        if seq is not None:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        self._apply_event(event, wall)
        if wall is not None:
            self.mark_heartbeat(wall)

    def apply_live(self, event: Event) -> None:
        """A live loop's event as it is recorded: now is its recording time (heartbeat, order latency)."""
        wall = time.time()
        self._apply_event(event, wall)
        self.mark_heartbeat(wall)

    def apply_all(self, records: Iterable[Any]) -> None:
        for record in records:
            self.apply(record)

    def catch_up(self, journal_dir: str | Path) -> int:
        """Apply every record after the last one seen (restart: replay the whole journal); returns how many."""
        from journal.reader import read_records

        before = self.last_seq
        self.apply_all(read_records(journal_dir, from_seq=max(1, self.last_seq + 1)))
        return max(0, self.last_seq - max(before, 0))

    def mark_heartbeat(self, epoch_seconds: float) -> None:
        """The live loop calls this every poll (its clock), so `bot health` sees it is alive."""
        self.metrics.heartbeat_ts.set(epoch_seconds)

    def observe_loop_latency(self, seconds: float) -> None:
        self.metrics.loop_latency.observe(seconds)

    def observe_order_latency(self, kind: str, seconds: float) -> None:
        self.metrics.order_latency.labels(self.account, kind).observe(seconds)

    def _apply_event(self, event: Event, wall: float | None) -> None:
        m, acct = self.metrics, self.account
        match event:
            case EquityObserved(equity=equity) | EquityMarked(equity=equity):
                self._set_equity(equity)
            case DailyAnchorReset(equity=equity):
                self._anchor = equity
                self._set_equity(self._equity if self._equity is not None else equity)
            case SignalDetected(symbol=symbol):
                m.signal_emitted.labels(self.symbol_label(symbol), self.timeframe).inc()
            case EntryPlanned(symbol=symbol, atr=atr):
                self._entry_atr[symbol] = atr
            case PositionClosed():
                m.trade_count.labels(acct).inc()
                self._record_r(event)
            case OrderRejected(reason=reason):
                m.order_errors.labels(acct, reason).inc()
                self._submitted.pop(event.client_id, None)
            case ErrorObserved(reason=reason):
                m.order_errors.labels(acct, reason).inc()
            case ClockObserved(drift_ms=drift, source=source):
                m.time_drift_ms.labels(source).set(drift)
            case EmergencyAction(policy="flatten", outcome=outcome, reason=reason):
                if outcome == FLATTEN_FAILED:
                    m.flatten_failures.labels(acct, reason).inc()
                elif outcome == FLATTEN_SKIPPED:
                    m.flatten_partial.labels(acct, reason).inc()
            case OrderSubmitted():
                self._on_submitted(event, wall)
            case OrderFilled():
                self._on_filled(event, wall)
            case _:
                self._on_answer(event, wall)

    def _set_equity(self, equity: float) -> None:
        self._equity = equity
        self.metrics.equity.labels(self.account).set(equity)
        if self._anchor and self._anchor > 0:
            drawdown = max(0.0, (self._anchor - equity) / self._anchor)
            self.metrics.daily_drawdown.labels(self.account).set(drawdown)

    def _record_r(self, closed: PositionClosed) -> None:
        atr = self._entry_atr.pop(closed.symbol, None)
        if not atr or atr <= 0:
            return
        direction = 1.0 if closed.side == "long" else -1.0
        self._recent_r.append(direction * (closed.exit_price - closed.entry_price) / atr)
        self.metrics.avg_r_atr_30.labels(self.account).set(sum(self._recent_r) / len(self._recent_r))

    def _on_submitted(self, event: OrderSubmitted, wall: float | None) -> None:
        if event.purpose == "take_profit":
            self.metrics.tp_orders_placed.labels(self.account, self.symbol_label(event.symbol), event.side).inc()
        if wall is not None:
            self._submitted[event.client_id] = (event.order_kind, wall)

    def _on_filled(self, event: OrderFilled, wall: float | None) -> None:
        if event.purpose == "take_profit":
            partial = event.cum_qty is not None and event.order_qty is not None and event.cum_qty < event.order_qty
            self.metrics.tp_fills.labels(
                self.account, self.symbol_label(event.symbol), event.side, "partial" if partial else "filled"
            ).inc()
        self._on_answer(event, wall)

    def _on_answer(self, event: Event, wall: float | None) -> None:
        """First exchange answer to a submitted order (accepted/filled/canceled): observe its latency."""
        client_id = getattr(event, "client_id", None)
        if client_id is None or wall is None or client_id not in self._submitted:
            return
        kind, sent = self._submitted.pop(client_id)
        self.observe_order_latency(kind, max(0.0, wall - sent))


def start_metrics_server(port: int, registry: CollectorRegistry, addr: str = "0.0.0.0") -> Any:
    """Serve /metrics for `registry` on a daemon thread; returns the server (call .shutdown() to stop)."""
    result = start_http_server(port, addr=addr, registry=registry)
    return result[0] if isinstance(result, tuple) else result
