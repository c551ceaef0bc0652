"""The MCP server (official SDK, stdio): inspect the journal, and send safe controls.

Inspection tools read the journal and its DuckDB projections only. Control tools
(manual close, halt/resume a symbol, protect_only) need the token configured in env
MCP_CONTROL_TOKEN (or config key `mcp_control_token`); without one they are disabled.
A control is never executed here: it is written through the control channel
(cli.control) and the live loop journals and applies it.
"""
from __future__ import annotations

import hmac
import time
from collections import deque
from pathlib import Path
from typing import Any

import duckdb
import msgspec
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from cli.control import bot_is_running, submit_request
from cli.mcp_status import iso, journal_status
from journal.errors import BadInput
from journal.events import (
    Event,
    HaltRequested,
    ManualCloseRequested,
    ProtectOnlyRequested,
    ResumeRequested,
    kind_of,
)
from journal.reader import read_records

MAX_ROWS = 1000


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Our one-line BadInput/CheckFailed messages become tool errors (never tracebacks)."""
    try:
        return fn(*args, **kwargs)
    except (BadInput, ValueError) as exc:
        raise ToolError(str(exc)) from None


def recent_events(journal_dir: Path, limit: int, kind: str | None) -> list[dict[str, Any]]:
    last: deque[dict[str, Any]] = deque(maxlen=max(1, min(limit, MAX_ROWS)))
    for record in read_records(journal_dir):
        if kind is None or kind_of(record.event) == kind:
            last.append({"seq": record.seq, "kind": kind_of(record.event), "ts_iso": iso(record.event.ts),
                         **msgspec.to_builtins(record.event)})
    return list(last)


def read_only_sql(journal_dir: Path, query: str, limit: int) -> dict[str, Any]:
    """One SELECT over the projection views; anything else is refused before DuckDB runs it."""
    from projections.db import connect, run_query

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise BadInput(f"SQL error: {exc}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise BadInput("only a single read-only SELECT statement is allowed")
    con = connect(journal_dir, read_only_query=True)
    try:
        cursor = run_query(con, query)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchmany(max(1, min(limit, MAX_ROWS)))
    finally:
        con.close()
    return {"columns": columns, "rows": [[_plain(v) for v in row] for row in rows]}


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value if not (isinstance(value, float) and value != value) else None
    return str(value)


def trades_and_metrics(journal_dir: Path, limit: int) -> dict[str, Any]:
    from projections.db import query_df
    from projections.metrics import report_metrics
    from projections.report import clean, records

    trades = query_df(journal_dir, "SELECT * FROM trades ORDER BY exit_ts, trade_id")
    equity = query_df(journal_dir, "SELECT ts, equity FROM equity ORDER BY ts")
    metrics = report_metrics(trades, equity)
    flat = {k: ({kk: clean(vv) for kk, vv in v.items()} if isinstance(v, dict) else clean(v))
            for k, v in metrics.items()}
    return {"trades": records(trades.tail(max(1, min(limit, MAX_ROWS)))), "metrics": flat}


def kill_switch_report(journal_dir: Path) -> list[dict[str, Any]]:
    from projections.audit import kill_switch_audit
    from projections.db import connect

    con = connect(journal_dir, read_only_query=True)
    try:
        return msgspec.to_builtins(kill_switch_audit(con))
    finally:
        con.close()


class Controls:
    """Token-checked operator requests, written to the control channel."""

    def __init__(self, journal_dir: Path, token: str | None) -> None:
        self.journal_dir = journal_dir
        self._token = token or None

    def submit(self, token: str, event: Event) -> dict[str, Any]:
        if self._token is None:
            raise ToolError("controls are disabled: set MCP_CONTROL_TOKEN (or config mcp_control_token)")
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            raise ToolError("invalid control token")
        path = submit_request(self.journal_dir, event)
        pid = bot_is_running(self.journal_dir)
        return {"request": path.name, "kind": kind_of(event), "bot_running_pid": pid,
                "note": "queued; the live loop journals and applies it on its next poll" if pid
                else "queued; no bot holds this journal now, it is applied when one starts"}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def build_server(journal_dir: str | Path, control_token: str | None = None) -> MCPServer:
    """The MCP server for one journal directory."""
    journal = Path(journal_dir)
    controls = Controls(journal, control_token)
    server = MCPServer("donchian-bot", instructions="Inspect the trading bot's journal; controls need a token.")

    @server.tool(description="Mode, per-symbol state/position/stop, equity, kill-switch trips, last heartbeat.")
    def status() -> dict[str, Any]:
        return {**_guard(journal_status, journal), "bot_running_pid": bot_is_running(journal)}

    @server.tool(name="recent_events",
                 description="The last `limit` journal events, optionally only of one kind (e.g. order_filled).")
    def recent_events_tool(limit: int = 20, kind: str | None = None) -> list[dict[str, Any]]:
        return _guard(recent_events, journal, limit, kind)

    @server.tool(description="Closed trades (latest `limit`) and the report metrics of the whole journal.")
    def trades(limit: int = 50) -> dict[str, Any]:
        return _guard(trades_and_metrics, journal, limit)

    @server.tool(description="Run one read-only SELECT over the projection views (events, candles, signals, "
                             "orders, fills, trades, stops, equity, anchors, kill_switch).")
    def sql(query: str, limit: int = 200) -> dict[str, Any]:
        return _guard(read_only_sql, journal, query, limit)

    @server.tool(description="Post-incident audit of every kill-switch trip (journal audit --kill-switch).")
    def kill_switch_audit() -> list[dict[str, Any]]:
        return _guard(kill_switch_report, journal)

    @server.tool(description="Ask the bot to close SYMBOL at market (exit_reason_code=manual_close). Needs the token.")
    def manual_close(symbol: str, token: str, reason: str = "manual_close") -> dict[str, Any]:
        return controls.submit(token, ManualCloseRequested(ts=_now_ms(), symbol=symbol, reason=reason,
                                                           requested_by="mcp"))

    @server.tool(description="Halt new entries on SYMBOL (all symbols when omitted). Needs the token.")
    def halt(token: str, symbol: str | None = None, reason: str = "mcp") -> dict[str, Any]:
        return controls.submit(token, HaltRequested(ts=_now_ms(), symbol=symbol, reason=reason))

    @server.tool(description="Resume SYMBOL (all symbols when omitted). Needs the token.")
    def resume(token: str, symbol: str | None = None, reason: str = "mcp") -> dict[str, Any]:
        return controls.submit(token, ResumeRequested(ts=_now_ms(), symbol=symbol, reason=reason))

    @server.tool(description="Switch to protect_only: keep stops, block new entries. Needs the token.")
    def protect_only(token: str, reason: str = "mcp") -> dict[str, Any]:
        return controls.submit(token, ProtectOnlyRequested(ts=_now_ms(), reason=reason))

    return server
