"""Human-readable rendering of the kill-switch audit (rich tables, one block per trip)."""
from __future__ import annotations

from typing import Any, Iterable

from rich.console import Console
from rich.table import Table

from projections.audit import iso


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _table(title: str, rows: Iterable[dict[str, Any]], columns: tuple[str, ...], empty: str) -> Table | str:
    rows = list(rows)
    if not rows:
        return f"  {title}: {empty}"
    table = Table(*columns, title=title, title_justify="left", header_style="bold")
    for row in rows:
        table.add_row(*(_fmt(row.get(c)) for c in columns))
    return table


def _duration(ms: int | None, never: str) -> str:
    return never if ms is None else f"{ms} ms ({ms / 1000:.1f} s)"


def render_audit(trips: list[dict[str, Any]], console: Console) -> None:
    if not trips:
        console.print("no kill-switch trips")
        return
    console.print(f"{len(trips)} kill-switch trip{'s' if len(trips) != 1 else ''}")
    for n, trip in enumerate(trips, 1):
        console.rule(f"trip {n}: seq {trip['seq']} at {trip['time']} (recorded {trip['recorded_at']}) — "
                     f"reason {trip['reason']}")
        limits = f"window {trip['window_sec']} s, max errors {trip['max_errors']}"
        console.print(f"  {limits}; equity before trip: {_fmt(trip['equity'])}")
        trigger = [{**e, "time": iso(e["ts"])} for e in trip["trigger"]]
        console.print(_table("trigger errors", trigger, ("seq", "time", "reason", "source", "code", "symbol",
                                                          "message"), "none recorded"))
        console.print(_table("symbols at trip", trip["symbols"], ("symbol", "side", "qty", "entry_price",
                                                                 "stop_price", "halted"), "no symbols seen"))
        console.print(_table("open orders at trip", trip["open_orders"], ("client_id", "symbol", "side", "kind",
                                                                         "purpose", "qty", "filled_qty",
                                                                         "stop_price", "status"), "none"))
        console.print(_table("emergency actions after trip", trip["actions"], ("seq", "after_ms", "after_wall_ms",
                                                                               "policy",
                                                                               "action", "symbol", "outcome",
                                                                               "reason"), "none"))
        console.print(_table("positions closed after trip", trip["closes"], ("seq", "after_ms", "after_wall_ms",
                                                                             "symbol", "qty",
                                                                             "exit_price", "pnl", "reason"),
                             "none"))
        last = _duration(trip["time_to_last_action_ms"], "no action")
        last_wall = _duration(trip["time_to_last_action_wall_ms"], "no action")
        console.print(f"  time to last emergency action: {last} event time, {last_wall} wall time")
        never = f"NOT reached (unresolved: {', '.join(trip['unresolved_symbols'])})"
        safe = _duration(trip["time_to_flat_or_protected_ms"], never)
        if trip["time_to_flat_or_protected_wall_ms"] is not None:
            safe += f" event time, {_duration(trip['time_to_flat_or_protected_wall_ms'], never)} wall time"
        console.print(f"  time to flat/protected: {safe}")
