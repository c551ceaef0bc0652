"""`journal audit --kill-switch`: every trip, what triggered it, the state it hit, what followed.

    kill_switch_audit(con) -> list[dict]       (con: a projections.db connection)

Per trip: the trigger errors (the error_observed events named in `error_seqs`, else those
in the `window_sec` before it), each symbol's position/stop/halt at that moment, the
orders open at that moment, the emergency actions (and position closes) that followed
until the next trip, and two durations from the trip:
  time_to_last_action_ms     -> the last emergency action after the trip;
  time_to_flat_or_protected_ms -> every symbol with a position at the trip is flat or has a
                                done ensure_stop / fallback_stop / close action (0 when no
                                position was open; null when that never happened).
Both in event time (`ts`) and, as `*_wall_ms`, in recording wall time (`recorded_at`): in
live runs decisions carry their bar's time, so the wall figures are what the operator lived.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import duckdb
import msgspec

from journal.events import AnyEvent
from projections.audit_fold import AuditFold, Trip

AUDIT_KINDS = ("session_started", "order_submitted", "order_accepted", "order_rejected", "order_filled",
               "order_canceled", "stop_moved", "position_closed", "halted", "resumed", "error_observed",
               "kill_switch_tripped", "emergency_action", "reconcile_observed")


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def kill_switch_audit(con: duckdb.DuckDBPyConnection, default_window_sec: int = 60) -> list[dict[str, Any]]:
    """One dict per kill-switch trip in seq order; [] when the journal has none."""
    if not con.execute("SELECT count(*) FROM kill_switch").fetchone()[0]:
        return []
    kinds = ", ".join(f"'{k}'" for k in AUDIT_KINDS)
    decoder = msgspec.json.Decoder(AnyEvent)
    fold = AuditFold(default_window_sec)
    cursor = con.execute(f"SELECT seq, recorded_at, payload FROM events WHERE kind IN ({kinds}) ORDER BY seq")
    while rows := cursor.fetchmany(50_000):
        for seq, wall, payload in rows:
            fold.apply(seq, decoder.decode(payload), wall)
    return [_report(con, trip) for trip in fold.trips]


def _equity_before(con: duckdb.DuckDBPyConnection, seq: int) -> float | None:
    row = con.execute("SELECT equity FROM equity WHERE seq < ? ORDER BY seq DESC LIMIT 1", [seq]).fetchone()
    return None if row is None else row[0]


def _report(con: duckdb.DuckDBPyConnection, trip: Trip) -> dict[str, Any]:
    ev = trip.event
    unresolved = sorted(trip.exposed - trip.safe_at.keys())
    to_safe: int | None = None
    to_safe_wall: int | None = None
    if not trip.exposed:
        to_safe = to_safe_wall = 0
    elif not unresolved:
        to_safe = max(trip.safe_at[s][0] for s in trip.exposed) - ev.ts
        to_safe_wall = max(trip.safe_at[s][1] for s in trip.exposed) - trip.wall
    return {
        "seq": trip.seq, "ts": ev.ts, "time": iso(ev.ts), "recorded_at": iso(trip.wall), "reason": ev.reason,
        "window_sec": ev.window_sec, "max_errors": ev.max_errors,
        "error_seqs": list(ev.error_seqs), "error_reasons": list(ev.error_reasons),
        "equity": _equity_before(con, trip.seq),
        "trigger": trip.errors,
        "symbols": trip.symbols,
        "open_orders": trip.open_orders,
        "actions": trip.actions,
        "closes": trip.closes,
        "time_to_last_action_ms": max((a["after_ms"] for a in trip.actions), default=None),
        "time_to_flat_or_protected_ms": to_safe,
        "time_to_last_action_wall_ms": max((a["after_wall_ms"] for a in trip.actions), default=None),
        "time_to_flat_or_protected_wall_ms": to_safe_wall,
        "unresolved_symbols": unresolved,
    }
