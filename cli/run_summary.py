"""A running tally of a session, fed by the loop's observers: the closing summary of
`bot backtest` and the figures of `bot live`'s status panel.

It only reads events the loop already has in hand, so it costs one isinstance per
event and never re-reads the journal.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from journal.events import (
    ALL_EVENT_TYPES, CandleClosed, EquityMarked, Event, OrderFilled, PositionClosed, SignalDetected, SignalFiltered,
)

QUIET_KINDS = frozenset({"candle_closed", "equity_marked", "market_loaded", "session_started", "order_accepted"})
_QUIET_TYPES = frozenset(t for t in ALL_EVENT_TYPES if t.__struct_config__.tag in QUIET_KINDS)
"""QUIET_KINDS as event types: one set lookup per event instead of reading its tag."""


@dataclass
class RunSummary:
    initial_equity: float
    bars: int = 0
    signals: int = 0
    filtered: int = 0
    fills: int = 0
    trades: int = 0
    wins: int = 0
    pnl: float = 0.0
    equity: float = 0.0
    peak: float = 0.0
    max_drawdown: float = 0.0  # fraction of the running peak
    last_close: dict[str, float] = field(default_factory=dict)
    last_bar_ts: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=6))

    def __post_init__(self) -> None:
        self.equity = self.peak = self.initial_equity

    def observe(self, event: Event) -> None:
        kind = type(event)
        if kind is CandleClosed:
            self.bars += 1
            self.last_close[event.symbol] = event.close
            self.last_bar_ts = event.ts
        elif kind is EquityMarked:
            self._mark(event.equity)
        else:
            if kind is SignalDetected:
                self.signals += 1
            elif kind is SignalFiltered:
                self.filtered += 1
            elif kind is OrderFilled:
                self.fills += 1
            elif kind is PositionClosed:
                self.trades += 1
                self.wins += event.pnl > 0
                self.pnl += event.pnl  # equity moves with the core's marks (one follows every exit)
            if kind not in _QUIET_TYPES:
                self.recent.append(event)

    def _mark(self, equity: float) -> None:
        self.equity = equity
        if equity > self.peak:  # max(), without the call: keeps the peak on ties and NaN alike
            self.peak = equity
        if self.peak > 0:
            drawdown = (self.peak - equity) / self.peak
            if drawdown > self.max_drawdown:
                self.max_drawdown = drawdown

    @property
    def win_rate(self) -> float:
        return self.wins / self.trades if self.trades else 0.0

    def as_dict(self, seconds: float | None = None) -> dict[str, float | int]:
        figures: dict[str, float | int] = {
            "bars": self.bars, "signals": self.signals, "fills": self.fills, "trades": self.trades,
            "pnl": round(self.pnl, 2), "win_rate": round(self.win_rate, 4),
            "max_drawdown": round(self.max_drawdown, 4), "final_equity": round(self.equity, 2),
        }
        if seconds is not None:
            figures["seconds"] = round(seconds, 3)
            figures["bars_per_s"] = round(self.bars / seconds) if seconds > 0 else 0
        return figures
