"""The live status panel of `bot live` (a terminal only): symbol states, equity and
the latest decisions, redrawn a few times a second by rich. Reads state, never writes.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.table import Table

from cli.run_summary import RunSummary
from journal.events import Event, kind_of
from machine.state import equity as core_equity

DETAIL_FIELDS = ("side", "qty", "price", "stop_price", "reason", "pnl")


def utc(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def describe(event: Event) -> str:
    parts = []
    for name in DETAIL_FIELDS:
        value = getattr(event, name, None)
        if value is not None and value != "":
            parts.append(f"{name}={round(value, 6) if isinstance(value, float) else value}")
    return " ".join(parts)


def render(title: str, state: Any, summary: RunSummary, symbols: tuple[str, ...]) -> Group:
    head = Table.grid(padding=(0, 2))
    equity = core_equity(state)
    head.add_row(f"[bold]{title}[/]", f"bar {utc(summary.last_bar_ts) if summary.last_bar_ts else '-'}",
                 f"bars {summary.bars}", f"equity {equity:,.2f}", f"trades {summary.trades}",
                 f"win {summary.win_rate:.0%}", f"pnl {summary.pnl:+,.2f}", f"max dd {summary.max_drawdown:.1%}")
    table = Table("symbol", "state", "position", "avg price", "stop", "last close", expand=False)
    for symbol in symbols:
        sym = state.sym.get(symbol)
        pos = sym.pos if sym is not None else None
        table.add_row(
            symbol, sym.phase if sym is not None else "flat",
            f"{pos.side} {pos.qty:g}" if pos is not None else "-",
            f"{pos.avg_price:,.2f}" if pos is not None else "-",
            f"{sym.stop_price:,.2f}" if sym is not None and sym.stop_price else "-",
            f"{summary.last_close.get(symbol, 0.0):,.2f}",
        )
    recent = Table("time", "decision / answer", "symbol", "details", title="latest", title_justify="left")
    for event in list(summary.recent)[::-1]:
        recent.add_row(utc(event.ts), kind_of(event), getattr(event, "symbol", None) or "-", describe(event))
    return Group(head, table, recent)


class LiveStatus:
    """Throttled redraws: rendering every bar at --speed max would cost more than trading."""

    def __init__(self, title: str, loop: Any, summary: RunSummary, symbols: tuple[str, ...],
                 enabled: bool, min_interval_s: float = 0.1) -> None:
        self.title, self.loop, self.summary, self.symbols = title, loop, summary, symbols
        self.enabled = enabled
        self.min_interval_s = min_interval_s
        self._live: Live | None = None
        self._last = 0.0

    def __enter__(self) -> "LiveStatus":
        if self.enabled:
            self._live = Live(self._render(), refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def _render(self) -> Group:
        return render(self.title, self.loop.state, self.summary, self.symbols)

    def update(self, force: bool = False) -> None:
        if self._live is None:
            return
        now = time.monotonic()
        if force or now - self._last >= self.min_interval_s:
            self._last = now
            self._live.update(self._render())

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self.update(force=True)
            self._live.__exit__(None, None, None)
