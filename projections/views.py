"""The SQL views `journal sql` exposes (names and columns per DESIGN.md, extras appended).

Views are thin: the typed tables in `projections.schema` hold the rows; views pick the
contract's columns first and fold what needs folding (order status, equity source,
duplicate fills). Every view keeps `seq` so rows can be traced back to the journal.
"""
from __future__ import annotations

_FILLS = """
SELECT seq, client_id, symbol, ts, side, qty, price, fee, purpose, fee_asset, fill_id, cum_qty, order_qty
FROM fills_t
QUALIFY row_number() OVER (PARTITION BY client_id, fill_id ORDER BY seq) = 1
"""
# A fill reported twice (same client_id + fill_id) counts once, as the core applies it once.

_ORDERS = """
WITH sub AS (
    SELECT * FROM orders_t QUALIFY row_number() OVER (PARTITION BY client_id ORDER BY seq) = 1
), f AS (
    SELECT client_id, sum(qty) AS filled_qty, sum(qty * price) / nullif(sum(qty), 0) AS avg_fill_price,
           max(cum_qty) AS max_cum_qty, min(seq) AS first_fill_seq, max(seq) AS last_fill_seq
    FROM fills GROUP BY client_id
), u AS (
    SELECT client_id,
           min(seq) FILTER (WHERE "update" = 'order_accepted') AS accept_seq,
           min(seq) FILTER (WHERE "update" = 'order_rejected') AS reject_seq,
           min(seq) FILTER (WHERE "update" = 'order_canceled') AS cancel_seq,
           arg_min(reason, seq) FILTER (WHERE "update" = 'order_rejected') AS reject_reason,
           arg_min(reason, seq) FILTER (WHERE "update" = 'order_canceled') AS cancel_reason,
           max(seq) AS last_update_seq
    FROM order_updates_t GROUP BY client_id
), folded AS (
    SELECT s.*, coalesce(greatest(f.filled_qty, f.max_cum_qty), 0) AS filled_qty, f.avg_fill_price,
           u.accept_seq IS NOT NULL AS was_accepted, u.cancel_seq IS NOT NULL AS was_canceled,
           coalesce(u.reject_seq < least(coalesce(u.accept_seq, u.reject_seq + 1), coalesce(f.first_fill_seq, u.reject_seq + 1),
                                         coalesce(u.cancel_seq, u.reject_seq + 1)), false) AS was_rejected,
           u.reject_reason, u.cancel_reason,
           greatest(s.seq, u.last_update_seq, f.last_fill_seq) AS last_seq
    FROM sub s LEFT JOIN f USING (client_id) LEFT JOIN u USING (client_id)
), status AS (
    SELECT *,
           CASE WHEN was_rejected THEN 'rejected'
                WHEN qty > 0 AND filled_qty >= qty * (1 - 1e-9) THEN 'filled'
                WHEN was_canceled THEN 'canceled'
                WHEN filled_qty > 0 THEN 'partially_filled'
                WHEN was_accepted THEN 'accepted'
                ELSE 'submitted' END AS status
    FROM folded
)
SELECT client_id, symbol, ts, side, kind, qty, price, stop_price, reduce_only, purpose, status,
       filled_qty, avg_fill_price,
       CASE status WHEN 'rejected' THEN reject_reason WHEN 'canceled' THEN cancel_reason END AS status_reason,
       seq, last_seq
FROM status
"""
# Status precedence: rejected > filled (fills reach the order qty) > canceled > partially_filled
# > accepted > submitted. `rejected` means the venue refused the order itself: its rejection came
# before any accept, fill or cancel. A rejection after those answers a cancel request for an order
# that had already ended or was still working (Binance -2011 "unknown order"), and leaves the order's
# status alone. A partially filled order that was then canceled is `canceled` with filled_qty > 0.
# status_reason: the reason of the rejection or cancel that gave the status (else NULL).

_EQUITY = """
WITH first_mark AS (SELECT coalesce(min(seq), 9223372036854775807) AS seq FROM equity_marked_t),
start AS (
    SELECT ts, equity, seq FROM (
        SELECT ts, equity, seq, 0 AS pick FROM equity_observed_t WHERE seq < (SELECT seq FROM first_mark)
        UNION ALL
        SELECT ts, equity, seq, 1 AS pick FROM anchors_t WHERE seq < (SELECT seq FROM first_mark)
    ) ORDER BY pick, seq LIMIT 1
)
SELECT least(ts, coalesce((SELECT min_by(ts, seq) FROM sessions_t), ts)) AS ts, equity, seq, 'start' AS source
FROM start
WHERE EXISTS (SELECT 1 FROM equity_marked_t) OR NOT EXISTS (SELECT 1 FROM equity_observed_t)
UNION ALL
SELECT ts, equity, seq, 'marked' AS source FROM equity_marked_t
UNION ALL
SELECT ts, equity, seq, 'observed' AS source FROM equity_observed_t
WHERE NOT EXISTS (SELECT 1 FROM equity_marked_t)
"""
# The run's starting point (`start`), then the core's mark-to-market (equity_marked); the exchange's
# numbers (equity_observed) instead when the journal has no marks but has those. The core marks only
# while a position is open, so the first mark can come after a whole trade (one that opened and
# stopped out within a bar); the start is what the run began with: the exchange's first observed
# equity when there is one before the first mark (live: the wallet), else the first daily anchor
# (the core's equity at its first bar: initial_equity in a backtest or paper run). It is placed at
# the first session's ts (a live wallet is read after the first bars, whose marks carry bar times).
# A run that never held a position is its start alone.

VIEWS: dict[str, str] = {
    "events": "SELECT seq, ts, kind, symbol, payload, recorded_at, v FROM events_t",
    "candles": "SELECT symbol, ts, open, high, low, close, volume, timeframe, warmup, seq FROM candles_t",
    "signals": "SELECT seq, symbol, ts, side, accepted, filter_reason, close, channel_high, channel_low, atr "
               "FROM signals_t",
    "entries": "SELECT seq, symbol, ts, side, qty, ref_price, stop_price, atr, risk_amount, notional, equity "
               "FROM entries_t",
    "fills": _FILLS,
    "orders": _ORDERS,
    "order_updates": 'SELECT seq, ts, client_id, symbol, "update", reason, exchange_id, code, message '
                     "FROM order_updates_t",
    "trades": "SELECT trade_id, symbol, side, entry_ts, exit_ts, entry_price, exit_price, qty, pnl, fees, "
              "exit_reason, seq FROM trades_t",
    "stops": "SELECT seq, symbol, ts, side, stop_price, reason, prev_stop FROM stops_t",
    "pyramids": "SELECT seq, symbol, ts, side, level, qty, trigger_price FROM pyramids_t",
    "equity": _EQUITY,
    "anchors": "SELECT day, equity, ts, seq FROM anchors_t",
    "kill_switch": "SELECT seq, ts, reason, error_seqs, error_reasons, window_sec, max_errors FROM kill_switch_t",
    "emergency_actions": "SELECT seq, ts, policy, action, outcome, reason, symbol, trigger FROM emergency_t",
    "errors": "SELECT seq, ts, kind, reason, source, code, message, symbol, client_id FROM errors_t",
    "sessions": ("SELECT seq, ts, run_id, mode, version, config_digest, symbols, timeframe, coalesce(code_digest, '') "
                 "AS code_digest FROM sessions_t"),
    "halts": "SELECT seq, ts, kind, symbol, payload->>'reason' AS reason FROM events_t WHERE kind IN "
             "('halted', 'resumed', 'halt_requested', 'resume_requested', 'protect_only_requested')",
}
"""View name -> SELECT. Order matters: `orders` reads `fills`."""
