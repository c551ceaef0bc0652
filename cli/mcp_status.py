"""A read-only status fold over a journal, for the MCP `status` tool.

Independent of the core's internal State on purpose: it only reads the public event
vocabulary, so operators get the same answer whatever the machine keeps internally.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journal.events import (
    EmergencyAction,
    EquityMarked,
    EquityObserved,
    Event,
    Halted,
    KillSwitchTripped,
    OrderFilled,
    PositionClosed,
    ProtectOnlyRequested,
    Resumed,
    SessionStarted,
    StopMoved,
)
from journal.reader import read_records

OPENING = ("entry", "pyramid")


def iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


class StatusFold:
    """Mode, per-symbol position/stop/halt, equity, kill-switch trips and the last record."""

    def __init__(self) -> None:
        self.session: SessionStarted | None = None
        self.positions: dict[str, dict[str, Any]] = {}
        self.stops: dict[str, float] = {}
        self.halted: dict[str, bool] = {}
        self.all_halted = False
        self.protect_only = False
        self.equity: float | None = None
        self.kill_switch_trips = 0
        self.records = 0
        self.last: dict[str, Any] = {}

    def apply(self, seq: int, recorded_at: int, event: Event) -> None:
        self.records += 1
        self.last = {"seq": seq, "ts": iso(event.ts), "recorded_at": iso(recorded_at)}
        match event:
            case SessionStarted():
                self.session = event
            case EquityObserved(equity=equity) | EquityMarked(equity=equity):
                self.equity = equity
            case OrderFilled():
                self._fill(event)
            case PositionClosed(symbol=symbol):
                self.positions.pop(symbol, None)
                self.stops.pop(symbol, None)
            case StopMoved(symbol=symbol, stop_price=price):
                self.stops[symbol] = price
            case Halted(symbol=symbol) | Resumed(symbol=symbol):
                halted = isinstance(event, Halted)
                if symbol is None:
                    self.all_halted = halted
                    self.halted = {s: halted for s in self.halted}
                else:
                    self.halted[symbol] = halted
            case ProtectOnlyRequested() | EmergencyAction(action="block_entries"):
                self.protect_only = True
            case KillSwitchTripped():
                self.kill_switch_trips += 1

    def _fill(self, fill: OrderFilled) -> None:
        pos = self.positions.get(fill.symbol)
        if fill.purpose in OPENING:
            if pos is None:
                side = "long" if fill.side == "buy" else "short"
                pos = self.positions[fill.symbol] = {"side": side, "qty": 0.0, "entry_price": fill.price,
                                                     "entry_ts": iso(fill.ts)}
            pos["qty"] += fill.qty
        elif pos is not None:
            pos["qty"] = max(0.0, pos["qty"] - fill.qty)

    def as_dict(self) -> dict[str, Any]:
        symbols = sorted(set(self.session.symbols if self.session else ()) | self.positions.keys()
                         | self.stops.keys() | self.halted.keys())
        per_symbol = {
            s: {
                "state": "halted" if self.halted.get(s, self.all_halted)
                else (self.positions[s]["side"] if s in self.positions else "flat"),
                "position": self.positions.get(s),
                "stop": self.stops.get(s),
            }
            for s in symbols
        }
        return {
            "mode": self.session.mode if self.session else None,
            "run_id": self.session.run_id if self.session else None,
            "timeframe": self.session.timeframe if self.session else None,
            "protect_only": self.protect_only,
            "equity": self.equity,
            "symbols": per_symbol,
            "kill_switch_trips": self.kill_switch_trips,
            "records": self.records,
            "last_record": self.last or None,
            "last_heartbeat": self.last.get("recorded_at") if self.last else None,
        }


def journal_status(journal_dir: str | Path) -> dict[str, Any]:
    fold = StatusFold()
    for record in read_records(journal_dir):
        fold.apply(record.seq, record.recorded_at, record.event)
    return fold.as_dict()
