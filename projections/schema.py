"""Explicit DuckDB schemas of the projection tables, each filled from some event kinds.

Every table is declared once as a list of columns; the same declaration yields the
CREATE TABLE statement, the JSON structure that DuckDB's `json_transform` parses the
event payload with, and the INSERT ... SELECT that loads a batch of records. Loading
is therefore vectorised inside DuckDB (no per-row INSERT from Python).

Batch columns available to expressions (alias `b`): seq, ts, recorded_at, v, kind,
symbol, payload. `j` is the payload parsed with the table's JSON structure.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

PROJECTION_VERSION = 1
"""Bump on any semantic change of the loaders; the DDL text is hashed in as well."""


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    expr: str  # SQL over `b` (batch) and `j` (parsed payload)
    json_key: str | None = None  # payload key read into `j`, typed as sql_type


def env(name: str, sql_type: str, expr: str | None = None) -> Column:
    """A column from the record envelope (or any expression over the batch)."""
    return Column(name, sql_type, expr or f"b.{name}")


def field(name: str, sql_type: str, key: str | None = None) -> Column:
    """A column read from the event payload."""
    key = key or name
    return Column(name, sql_type, f'j."{key}"', key)


@dataclass(frozen=True)
class TableSpec:
    name: str
    kinds: tuple[str, ...]
    columns: tuple[Column, ...]

    def ddl(self) -> str:
        cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in self.columns)
        return f"CREATE TABLE {self.name} ({cols})"

    def json_structure(self) -> str:
        keys = {c.json_key: c.sql_type for c in self.columns if c.json_key}
        return json.dumps(keys)

    def insert_sql(self, batch: str) -> str:
        kinds = ", ".join(f"'{k}'" for k in self.kinds)
        exprs = ", ".join(c.expr for c in self.columns)
        structure = self.json_structure().replace("'", "''")
        return (
            f"INSERT INTO {self.name} SELECT {exprs} FROM "
            f"(SELECT *, json_transform(payload, '{structure}') AS j FROM {batch} "
            f"WHERE kind IN ({kinds})) b"
        )


SEQ, TS, SYMBOL = env("seq", "BIGINT"), env("ts", "BIGINT"), env("symbol", "VARCHAR")

EVENTS = TableSpec(
    "events_t",
    (),
    (SEQ, TS, env("recorded_at", "BIGINT"), env("v", "INTEGER"), env("kind", "VARCHAR"), SYMBOL,
     env("payload", "JSON")),
)
"""Every record; loaded directly from the batch, not through insert_sql."""

TABLES: tuple[TableSpec, ...] = (
    TableSpec("candles_t", ("candle_closed",), (
        SEQ, SYMBOL, field("timeframe", "VARCHAR"), TS, field("open", "DOUBLE"), field("high", "DOUBLE"),
        field("low", "DOUBLE"), field("close", "DOUBLE"), field("volume", "DOUBLE"), field("warmup", "BOOLEAN"))),
    TableSpec("signals_t", ("signal_detected", "signal_filtered"), (
        SEQ, SYMBOL, TS, field("side", "VARCHAR"), env("accepted", "BOOLEAN", "b.kind = 'signal_detected'"),
        field("filter_reason", "VARCHAR", "reason"), field("close", "DOUBLE"), field("channel_high", "DOUBLE"),
        field("channel_low", "DOUBLE"), field("atr", "DOUBLE"))),
    TableSpec("entries_t", ("entry_planned",), (
        SEQ, SYMBOL, TS, field("side", "VARCHAR"), field("qty", "DOUBLE"), field("ref_price", "DOUBLE"),
        field("stop_price", "DOUBLE"), field("atr", "DOUBLE"), field("risk_amount", "DOUBLE"),
        field("notional", "DOUBLE"), field("equity", "DOUBLE"))),
    TableSpec("orders_t", ("order_submitted",), (
        SEQ, field("client_id", "VARCHAR"), SYMBOL, TS, field("side", "VARCHAR"),
        field("kind", "VARCHAR", "order_kind"), field("qty", "DOUBLE"), field("price", "DOUBLE"),
        field("stop_price", "DOUBLE"), field("reduce_only", "BOOLEAN"), field("purpose", "VARCHAR"))),
    TableSpec("order_updates_t", ("order_accepted", "order_rejected", "order_canceled", "order_cancel_requested"), (
        SEQ, TS, field("client_id", "VARCHAR"), SYMBOL, env("update", "VARCHAR", "b.kind"),
        field("reason", "VARCHAR"), field("exchange_id", "VARCHAR"), field("code", "BIGINT"),
        field("message", "VARCHAR"))),
    TableSpec("fills_t", ("order_filled",), (
        SEQ, field("client_id", "VARCHAR"), SYMBOL, TS, field("side", "VARCHAR"), field("qty", "DOUBLE"),
        field("price", "DOUBLE"), field("fee", "DOUBLE"), field("fee_asset", "VARCHAR"),
        field("purpose", "VARCHAR"), field("fill_id", "VARCHAR"), field("cum_qty", "DOUBLE"),
        field("order_qty", "DOUBLE"))),
    TableSpec("trades_t", ("position_closed",), (
        SEQ, field("trade_id", "VARCHAR"), SYMBOL, field("side", "VARCHAR"), field("entry_ts", "BIGINT"),
        env("exit_ts", "BIGINT", "b.ts"), field("entry_price", "DOUBLE"), field("exit_price", "DOUBLE"),
        field("qty", "DOUBLE"), field("pnl", "DOUBLE"), field("fees", "DOUBLE"),
        field("exit_reason", "VARCHAR", "reason"))),
    TableSpec("stops_t", ("stop_moved",), (
        SEQ, SYMBOL, TS, field("side", "VARCHAR"), field("stop_price", "DOUBLE"), field("reason", "VARCHAR"),
        field("prev_stop", "DOUBLE"))),
    TableSpec("pyramids_t", ("pyramid_added",), (
        SEQ, SYMBOL, TS, field("side", "VARCHAR"), field("level", "INTEGER"), field("qty", "DOUBLE"),
        field("trigger_price", "DOUBLE"))),
    TableSpec("equity_marked_t", ("equity_marked",), (
        SEQ, TS, field("equity", "DOUBLE"), field("realized", "DOUBLE"), field("unrealized", "DOUBLE"))),
    TableSpec("equity_observed_t", ("equity_observed",), (
        SEQ, TS, field("equity", "DOUBLE"), field("available", "DOUBLE"), field("source", "VARCHAR"))),
    TableSpec("anchors_t", ("daily_anchor_reset",), (
        SEQ, TS, field("day", "VARCHAR"), field("equity", "DOUBLE"))),
    TableSpec("kill_switch_t", ("kill_switch_tripped",), (
        SEQ, TS, field("reason", "VARCHAR"), field("error_seqs", "BIGINT[]"),
        field("error_reasons", "VARCHAR[]"), field("window_sec", "BIGINT"), field("max_errors", "BIGINT"))),
    TableSpec("emergency_t", ("emergency_action",), (
        SEQ, TS, field("policy", "VARCHAR"), field("action", "VARCHAR"), field("outcome", "VARCHAR"),
        field("reason", "VARCHAR"), SYMBOL, field("trigger", "VARCHAR"))),
    TableSpec("errors_t", ("error_observed", "error_raised"), (
        SEQ, TS, env("kind", "VARCHAR"), field("reason", "VARCHAR"),
        Column("source", "VARCHAR", "coalesce(j.\"source\", 'core')", "source"),
        field("code", "BIGINT"), Column("message", "VARCHAR", 'coalesce(j."message", j."detail")', "message"),
        field("detail", "VARCHAR"), SYMBOL, field("client_id", "VARCHAR"))),
    TableSpec("sessions_t", ("session_started",), (
        SEQ, TS, field("run_id", "VARCHAR"), field("mode", "VARCHAR"), field("version", "VARCHAR"),
        field("config_digest", "VARCHAR"), field("symbols", "VARCHAR[]"), field("timeframe", "VARCHAR"),
        field("code_digest", "VARCHAR"))),
)

META_DDL = "CREATE TABLE projection_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"


def schema_fingerprint() -> str:
    """Version + every DDL and view text: any change of the projection forces a rebuild."""
    from projections.views import VIEWS

    text = "\n".join([str(PROJECTION_VERSION), META_DDL, EVENTS.ddl(),
                      *(t.ddl() + t.insert_sql("x") for t in TABLES), *VIEWS.values()])
    return f"{PROJECTION_VERSION}:{hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}"
