"""Given these events, exactly these emergency decisions: every trigger x policy (issue 9).

Prefix (as in the core's position scenarios): bars 0-2 warm up, bar 3 breaks out long, bar 4 opens at
102.6 where the entry fills; the initial stop is 99.3, quantity 75.757 (notional ~7,772 of 10,000 equity).
"""
from __future__ import annotations

from msgspec.structs import replace

from conftest_core import FLAT, SCENARIO, SYMBOL, bar_ts, candles, of, run
from journal import events as ev
from machine.sim_venue import SimVenue

ENTERED = [FLAT, FLAT, FLAT, (100.0, 103.0, 99.5, 102.5), (102.6, 104.0, 102.0, 103.0)]
UP = (103.0, 104.0, 102.5, 103.5)  # closes above the entry: profitable
DOWN = (102.0, 102.2, 100.0, 100.5)  # closes below the entry (1.6% of equity lost), stop 99.3 untouched
PROTECT = replace(SCENARIO, emergency_policy="protect_only")
FLATTEN = replace(SCENARIO, emergency_policy="flatten", emergency_min_pnl_to_close_pct=0.0)
AFTER = bar_ts(4) + 60_000  # an input inside bar 5, after the entry and its stop


def actions(journal) -> list[tuple]:
    return [(a.policy, a.action, a.outcome, a.reason, a.symbol, a.trigger) for a in of(journal, ev.EmergencyAction)]


def orders(journal, purpose: str) -> list[ev.OrderSubmitted]:
    return [o for o in of(journal, ev.OrderSubmitted) if o.purpose == purpose]


def burst(n: int = 5, reason: str = "nonce") -> list[ev.ErrorObserved]:
    return [ev.ErrorObserved(ts=AFTER + i * 1000, reason=reason, code=-1021) for i in range(n)]


def entered_then(rows_after, extra, params):
    """Candles ENTERED + rows_after, with `extra` inputs right after bar 4 (the entry bar)."""
    bars = candles(ENTERED + list(rows_after))
    return run(bars[:5] + list(extra) + bars[5:], params)


class RejectFirst(SimVenue):
    """Rejects the first `n` orders of a purpose, then behaves."""

    def __init__(self, params, purpose: str, n: int):
        super().__init__(params)
        self.left = {purpose: n}

    def submit(self, order):
        if self.left.get(order.purpose, 0) > 0:
            self.left[order.purpose] -= 1
            return [ev.OrderRejected(ts=order.ts, client_id=order.client_id, symbol=order.symbol, reason="rejected")]
        return super().submit(order)


# --------------------------------------------------------------------------- kill switch


def test_kill_switch_with_protect_only_keeps_the_stop_and_places_no_order():
    state, journal = entered_then([UP], burst(), PROTECT)
    assert len(of(journal, ev.KillSwitchTripped)) == 1 and state.halted_all
    assert actions(journal) == [("protect_only", "ensure_stop", "done", "ok", SYMBOL, "kill_switch")]
    assert len(orders(journal, "stop")) == 1 and not orders(journal, "emergency")
    assert not of(journal, ev.OrderCancelRequested)  # the stop stays at the venue


def test_kill_switch_with_flatten_closes_a_profitable_position_reduce_only():
    bars = candles(ENTERED + [UP, UP])  # the trip comes inside bar 6, after bar 5 closed at 103.5 > 102.6
    _, journal = run(bars[:6] + [ev.ErrorObserved(ts=bar_ts(5) + 60_000 + i, reason="auth") for i in range(5)]
                     + bars[6:], FLATTEN)
    assert actions(journal) == [("flatten", "close", "done", "ok", SYMBOL, "kill_switch")]
    (close,) = orders(journal, "emergency")
    assert (close.order_kind, close.side, close.reduce_only, close.qty) == ("market", "sell", True, 75.757)
    (closed,) = of(journal, ev.PositionClosed)
    assert closed.reason == "emergency" and closed.ts == bar_ts(6)


def test_kill_switch_with_flatten_skips_a_losing_close_and_keeps_its_stop():
    bars = candles(ENTERED + [DOWN, UP])
    _, journal = run(bars[:6] + [ev.ErrorObserved(ts=bar_ts(5) + 60_000 + i, reason="auth") for i in range(5)]
                     + bars[6:], FLATTEN)
    assert actions(journal) == [("flatten", "close", "skipped", "not_profitable", SYMBOL, "kill_switch"),
                                ("flatten", "ensure_stop", "done", "ok", SYMBOL, "kill_switch")]
    assert not orders(journal, "emergency") and not of(journal, ev.PositionClosed)


def test_kill_switch_with_flatten_closes_a_loser_when_the_threshold_allows_it():
    params = replace(FLATTEN, emergency_min_pnl_to_close_pct=-0.05)
    bars = candles(ENTERED + [DOWN, UP])
    _, journal = run(bars[:6] + [ev.ErrorObserved(ts=bar_ts(5) + 60_000 + i, reason="auth") for i in range(5)]
                     + bars[6:], params)
    assert actions(journal) == [("flatten", "close", "done", "ok", SYMBOL, "kill_switch")]


# --------------------------------------------------------------------------- daily drawdown


def test_daily_drawdown_with_protect_only_blocks_entries_for_the_day_once():
    params = replace(PROTECT, daily_dd_limit=0.01)
    _, journal = run(ENTERED + [DOWN, DOWN], params)
    assert actions(journal) == [("protect_only", "block_entries", "done", "ok", None, "daily_dd"),
                                ("protect_only", "ensure_stop", "done", "ok", SYMBOL, "daily_dd")]
    assert [a.ts for a in of(journal, ev.EmergencyAction)] == [bar_ts(5)] * 2
    assert not orders(journal, "emergency")


def test_daily_drawdown_blocks_a_later_breakout_that_day_with_reason_daily_dd():
    params = replace(PROTECT, daily_dd_limit=0.01)
    rows = ENTERED + [DOWN, (100.5, 100.6, 99.0, 99.1)]  # stop 99.3 hit: flat again
    rows += [FLAT, (100.0, 104.0, 99.5, 103.9)]  # a fresh long breakout the same UTC day
    _, journal = run(rows, params)
    filtered = of(journal, ev.SignalFiltered)
    assert filtered and filtered[-1].reason == "daily_dd"
    assert len(orders(journal, "entry")) == 1


def test_daily_drawdown_with_flatten_closes_at_the_bar_close():
    params = replace(FLATTEN, daily_dd_limit=0.01, emergency_min_pnl_to_close_pct=-0.05)
    _, journal = run(ENTERED + [DOWN, UP], params)
    assert actions(journal) == [("flatten", "block_entries", "done", "ok", None, "daily_dd"),
                                ("flatten", "close", "done", "ok", SYMBOL, "daily_dd")]
    (closed,) = of(journal, ev.PositionClosed)
    assert closed.reason == "emergency" and closed.exit_price == UP[0]


def test_drawdown_below_the_limit_triggers_nothing():
    _, journal = run(ENTERED + [DOWN, DOWN], replace(PROTECT, daily_dd_limit=0.05))
    assert actions(journal) == []


# --------------------------------------------------------------------------- stop placement failures


def test_a_rejected_stop_gets_a_fallback_stop_at_the_configured_distance():
    params = replace(PROTECT, emergency_stop_fallback_pct=0.02)
    _, journal = run(ENTERED + [UP], params, venue=RejectFirst(params, "stop", 1))
    assert actions(journal) == [("protect_only", "fallback_stop", "done", "order_error", SYMBOL, "stop_rejected")]
    fallback = [m for m in of(journal, ev.StopMoved) if m.reason == "fallback"]
    # the entry fills at bar 4's open, when the last close is bar 3's 102.5: 102.5 * 0.98 = 100.45
    assert [m.stop_price for m in fallback] == [100.45]
    assert orders(journal, "stop")[-1].stop_price == 100.45 and not orders(journal, "emergency")


class StopWouldTrigger(SimVenue):
    """Refuses the first stop as Binance does when the price is already beyond it (-2021)."""

    def __init__(self, params):
        super().__init__(params)
        self.refused = False

    def submit(self, order):
        if order.purpose == "stop" and not self.refused:
            self.refused = True
            return [ev.OrderRejected(ts=order.ts, client_id=order.client_id, symbol=order.symbol,
                                     reason="would_trigger", code=-2021)]
        return super().submit(order)


def test_a_stop_refused_because_the_price_is_beyond_it_closes_at_market_whatever_the_policy():
    # protect_only would otherwise place a looser fallback stop; the market is already through the stop level.
    state, journal = run(ENTERED + [UP], PROTECT, venue=StopWouldTrigger(PROTECT))
    assert actions(journal) == [("protect_only", "close", "done", "would_trigger", SYMBOL, "stop_crossed")]
    close = orders(journal, "emergency")
    assert len(close) == 1 and close[0].reduce_only and close[0].order_kind == "market"
    assert not [m for m in of(journal, ev.StopMoved) if m.reason == "fallback"]
    assert len(of(journal, ev.PositionClosed)) == 1 and state.sym[SYMBOL].pos is None
    assert state.sym[SYMBOL].phase == "flat"


def test_repeated_stop_failure_with_protect_only_halts_the_symbol_without_closing():
    venue = SimVenue(PROTECT)
    venue.reject_purposes = {"stop"}
    state, journal = run(ENTERED + [UP], PROTECT, venue=venue)
    assert actions(journal) == [
        ("protect_only", "fallback_stop", "done", "order_error", SYMBOL, "stop_rejected"),
        ("protect_only", "fallback_stop", "failed", "order_error", SYMBOL, "stop_failed"),
        ("protect_only", "ensure_stop", "failed", "order_error", SYMBOL, "stop_failed"),
    ]
    assert state.sym[SYMBOL].phase == "halted" and not orders(journal, "emergency")


def test_repeated_stop_failure_with_flatten_closes():
    params = replace(FLATTEN, emergency_min_pnl_to_close_pct=-0.05)  # entry 102.6, last close 102.5
    venue = SimVenue(params)
    venue.reject_purposes = {"stop"}
    _, journal = run(ENTERED + [UP], params, venue=venue)
    assert actions(journal)[-1] == ("flatten", "close", "done", "ok", SYMBOL, "stop_failed")
    assert of(journal, ev.PositionClosed)[0].reason == "emergency"


def test_repeated_stop_failure_with_flatten_and_a_loser_halts_as_not_profitable():
    params = replace(FLATTEN, emergency_min_pnl_to_close_pct=0.5)  # nothing is that profitable
    venue = SimVenue(params)
    venue.reject_purposes = {"stop"}
    state, journal = run(ENTERED + [UP], params, venue=venue)
    assert ("flatten", "close", "skipped", "not_profitable", SYMBOL, "stop_failed") in actions(journal)
    assert state.sym[SYMBOL].phase == "halted"


def test_a_rejected_emergency_close_is_recorded_as_order_error():
    params = replace(FLATTEN, emergency_min_pnl_to_close_pct=-1.0)
    venue = SimVenue(params)
    venue.reject_purposes = {"stop", "emergency"}
    state, journal = run(ENTERED + [UP], params, venue=venue)
    assert ("flatten", "close", "failed", "order_error", SYMBOL, "close_ended") in actions(journal)
    assert state.sym[SYMBOL].phase == "halted"  # a venue refusing everything ends the retries


def test_an_unknown_policy_is_recorded_as_missing_handler():
    params = replace(SCENARIO, emergency_policy="pray")
    _, journal = run(candles(ENTERED) + [ev.ProtectOnlyRequested(ts=AFTER)] + burst(), params)
    assert ("pray", "close", "failed", "missing_handler", None, "kill_switch") in actions(journal)


# --------------------------------------------------------------------------- reconciliation


def reconcile_seen(journal, with_stop: bool) -> ev.ReconcileObserved:
    stop = orders(journal, "stop")[-1]
    open_orders = [{"client_id": stop.client_id, "symbol": SYMBOL, "side": "sell", "order_kind": "stop_market",
                    "qty": stop.qty, "filled_qty": 0.0, "status": "open", "reduce_only": True}] if with_stop else []
    return ev.ReconcileObserved(ts=AFTER, positions=[{"symbol": SYMBOL, "side": "long", "qty": 75.757,
                                                      "entry_price": 102.6}], open_orders=open_orders)


def test_reconcile_with_a_stop_at_the_venue_decides_nothing():
    _, prefix = run(ENTERED, PROTECT)
    _, journal = run(candles(ENTERED) + [reconcile_seen(prefix, True)], PROTECT)
    assert actions(journal) == []


def test_reconcile_finding_a_naked_position_with_protect_only_places_a_new_stop():
    _, prefix = run(ENTERED, PROTECT)
    _, journal = run(candles(ENTERED) + [reconcile_seen(prefix, False)], PROTECT)
    assert actions(journal) == [("protect_only", "block_entries", "done", "ok", None, "reconcile_unprotected"),
                                ("protect_only", "ensure_stop", "done", "ok", SYMBOL, "reconcile_unprotected")]
    old, new = orders(journal, "stop")
    assert new.stop_price == old.stop_price == 99.3 and new.reduce_only and new.client_id != old.client_id
    (cancel,) = of(journal, ev.OrderCancelRequested)
    assert (cancel.client_id, cancel.reason) == (old.client_id, "reconcile_missing")


def test_reconcile_finding_a_naked_position_with_flatten_closes_it():
    params = replace(FLATTEN, emergency_min_pnl_to_close_pct=-1.0)
    _, prefix = run(ENTERED, params)
    _, journal = run(candles(ENTERED) + [reconcile_seen(prefix, False)], params)
    assert actions(journal)[-1] == ("flatten", "close", "done", "ok", SYMBOL, "reconcile_unprotected")
    assert len(orders(journal, "emergency")) == 1


def test_reconcile_finding_a_position_the_journal_never_opened_reports_missing_handler():
    seen = ev.ReconcileObserved(ts=AFTER, positions=[{"symbol": "ETH/USDT", "side": "short", "qty": 1.0,
                                                      "entry_price": 2000.0}])
    _, journal = run(candles(ENTERED) + [seen], PROTECT)
    assert actions(journal) == [("protect_only", "ensure_stop", "failed", "missing_handler", "ETH/USDT",
                                 "reconcile_unprotected")]


# --------------------------------------------------------------------------- operator


def test_operator_protect_only_keeps_stops_and_blocks_entries():
    state, journal = run(candles(ENTERED) + [ev.ProtectOnlyRequested(ts=AFTER)], SCENARIO)
    assert actions(journal) == [("protect_only", "block_entries", "done", "ok", None, "operator"),
                                ("protect_only", "ensure_stop", "done", "ok", SYMBOL, "operator")]
    assert state.protect_only


def test_operator_flatten_closes_every_position_and_blocks_entries():
    bars = candles(ENTERED + [UP, UP])
    state, journal = run(bars[:6] + [ev.FlattenRequested(ts=bar_ts(5) + 60_000)] + bars[6:], FLATTEN)
    assert actions(journal) == [("flatten", "block_entries", "done", "ok", None, "operator"),
                                ("flatten", "close", "done", "ok", SYMBOL, "operator")]
    assert of(journal, ev.PositionClosed)[0].reason == "emergency" and state.protect_only


# --------------------------------------------------------------------------- metrics


def test_flatten_outcomes_feed_the_flatten_failure_and_partial_counters():
    from prometheus_client import CollectorRegistry

    from cli.metrics import MetricsProjector

    skipped_params = replace(FLATTEN, emergency_min_pnl_to_close_pct=0.5)
    bars = candles(ENTERED + [UP])
    _, skipped = run(bars[:5] + [ev.FlattenRequested(ts=AFTER)] + bars[5:], skipped_params)
    failing = replace(FLATTEN, emergency_min_pnl_to_close_pct=-1.0)
    venue = SimVenue(failing)
    venue.reject_purposes = {"emergency"}
    _, failed = run(bars[:5] + [ev.FlattenRequested(ts=AFTER)] + bars[5:], failing, venue=venue)
    registry = CollectorRegistry()
    projector = MetricsProjector(registry, account="paper", timeframe="1h", universe=[SYMBOL])
    for event in skipped + failed:
        projector.apply(event)
    partial = registry.get_sample_value("flatten_partial_total", {"account": "paper", "reason": "not_profitable"})
    failures = registry.get_sample_value("flatten_failures_total", {"account": "paper", "reason": "order_error"})
    assert (partial, failures) == (1.0, 1.0)
