"""Every seed metric, derived from journal events; a replayed journal resumes the counters."""
import urllib.request
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from cli.metrics import ORDER_LATENCY_BUCKETS, MetricsProjector, start_metrics_server
from journal.events import (
    ClockObserved,
    DailyAnchorReset,
    EmergencyAction,
    EntryPlanned,
    EquityObserved,
    ErrorObserved,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    PositionClosed,
    SignalDetected,
)

UNIVERSE = ("BTC/USDT", "ETH/USDT")


def projector():
    registry = CollectorRegistry()
    return registry, MetricsProjector(registry, "main", "1h", UNIVERSE)


def value(registry, name, **labels):
    got = registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


def sig(symbol):
    return SignalDetected(ts=0, symbol=symbol, side="long", close=1, channel_high=1, channel_low=0, atr=1)


def test_signals_are_counted_per_universe_symbol_and_others_fold_into_other():
    registry, proj = projector()
    for symbol in ("BTC/USDT", "BTC/USDT", "DOGE/USDT", "XRP/USDT"):
        proj.apply(sig(symbol))
    assert value(registry, "bot_signal_emitted_total", symbol="BTC/USDT", timeframe="1h") == 2
    assert value(registry, "bot_signal_emitted_total", symbol="other", timeframe="1h") == 2


def test_equity_and_daily_drawdown_follow_the_anchor():
    registry, proj = projector()
    proj.apply(DailyAnchorReset(ts=0, day="2024-01-01", equity=10_000))
    proj.apply(EquityObserved(ts=1, equity=9_400))
    assert value(registry, "bot_equity", account="main") == 9_400
    assert value(registry, "bot_daily_drawdown", account="main") == pytest.approx(0.06)
    proj.apply(EquityObserved(ts=2, equity=10_500))
    assert value(registry, "bot_daily_drawdown", account="main") == 0


def test_trades_and_avg_r_in_atr_units_over_exits():
    registry, proj = projector()
    for entry, exit_, atr in ((100, 110, 5), (100, 95, 5)):
        proj.apply(EntryPlanned(ts=0, symbol="BTC/USDT", side="long", qty=1, ref_price=entry, stop_price=90,
                                atr=atr, risk_amount=10, notional=100, equity=1000))
        proj.apply(PositionClosed(ts=1, symbol="BTC/USDT", side="long", trade_id="t", qty=1, entry_ts=0,
                                  entry_price=entry, exit_price=exit_, pnl=exit_ - entry, fees=0, reason="stop"))
    assert value(registry, "bot_trade_count_total", account="main") == 2
    assert value(registry, "bot_avg_r_atr_30", account="main") == pytest.approx((2 + -1) / 2)


def test_errors_drift_flatten_and_take_profit_labels():
    registry, proj = projector()
    proj.apply(OrderRejected(ts=0, client_id="a", symbol="BTC/USDT", reason="margin"))
    proj.apply(ErrorObserved(ts=0, reason="nonce"))
    proj.apply(ErrorObserved(ts=0, reason="nonce"))
    proj.apply(ClockObserved(ts=0, drift_ms=-1234))
    proj.apply(EmergencyAction(ts=0, policy="flatten", action="close", outcome="failed", reason="order_error"))
    proj.apply(EmergencyAction(ts=0, policy="flatten", action="close", outcome="skipped", reason="not_profitable"))
    proj.apply(EmergencyAction(ts=0, policy="protect_only", action="ensure_stop", outcome="failed", reason="x"))
    proj.apply(OrderSubmitted(ts=0, client_id="tp1", symbol="ETH/USDT", side="sell", order_kind="take_profit_market",
                              qty=1, purpose="take_profit"))
    proj.apply(OrderFilled(ts=0, client_id="tp1", symbol="ETH/USDT", fill_id="f1", side="sell", qty=0.5, price=1,
                           purpose="take_profit", cum_qty=0.5, order_qty=1))
    assert value(registry, "bot_order_errors_total", account="main", reason="margin") == 1
    assert value(registry, "bot_order_errors_total", account="main", reason="nonce") == 2
    assert value(registry, "bot_time_drift_ms", source="exchange") == -1234
    assert value(registry, "flatten_failures_total", account="main", reason="order_error") == 1
    assert value(registry, "flatten_partial_total", account="main", reason="not_profitable") == 1
    assert value(registry, "flatten_failures_total", account="main", reason="x") == 0
    assert value(registry, "tp_orders_placed_total", account="main", symbol="ETH/USDT", side="sell") == 1
    assert value(registry, "tp_fills_total", account="main", symbol="ETH/USDT", side="sell", reason="partial") == 1


def record(seq, event, wall_ms):
    return SimpleNamespace(seq=seq, event=event, wall_ms=wall_ms)


def test_order_latency_from_recording_times_and_heartbeat_from_last_record():
    registry, proj = projector()
    proj.apply(record(1, OrderSubmitted(ts=0, client_id="c1", symbol="BTC/USDT", side="buy", order_kind="market",
                                        qty=1, purpose="entry"), 1_700_000_000_000))
    proj.apply(record(2, OrderAccepted(ts=0, client_id="c1", symbol="BTC/USDT"), 1_700_000_000_300))
    assert value(registry, "order_latency_seconds_count", account="main", kind="market") == 1
    assert value(registry, "order_latency_seconds_bucket", account="main", kind="market", le="0.25") == 0
    assert value(registry, "order_latency_seconds_bucket", account="main", kind="market", le="0.5") == 1
    assert value(registry, "bot_heartbeat_ts") == pytest.approx(1_700_000_000.3)


def test_replaying_the_same_records_resumes_rather_than_double_counts():
    records = [record(i, sig("BTC/USDT"), 1_700_000_000_000 + i) for i in range(1, 6)]
    registry, proj = projector()
    proj.apply_all(records[:3])
    proj.apply_all(records)  # a follow that re-reads from an earlier seq
    assert value(registry, "bot_signal_emitted_total", symbol="BTC/USDT", timeframe="1h") == 5
    restarted_registry, restarted = projector()
    restarted.apply_all(records)
    assert value(restarted_registry, "bot_signal_emitted_total", symbol="BTC/USDT", timeframe="1h") == 5


def test_metrics_endpoint_serves_every_seed_name():
    registry, proj = projector()
    proj.apply(sig("BTC/USDT"))
    proj.mark_heartbeat(1_700_000_000)
    proj.observe_loop_latency(0.2)
    proj.observe_order_latency("market", 0.07)
    server = start_metrics_server(0, registry, addr="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        server.shutdown()
    names = {f.name for f in text_string_to_metric_families(text)}
    for name in ("bot_equity", "bot_daily_drawdown", "bot_avg_r_atr_30", "bot_signal_emitted", "bot_trade_count",
                 "bot_order_errors", "bot_time_drift_ms", "bot_heartbeat_ts", "flatten_failures", "flatten_partial",
                 "tp_orders_placed", "tp_fills", "order_latency_seconds", "bot_loop_latency_seconds"):
        assert name in names, name
    assert 'order_latency_seconds_bucket{account="main",kind="market",le="0.1"} 1.0' in text
    assert tuple(float(b) for b in ORDER_LATENCY_BUCKETS) == (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
