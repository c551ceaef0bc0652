"""A restarted bot resumes its counters by replaying its journal (real JournalWriter/reader)."""
from prometheus_client import CollectorRegistry

from cli.metrics import MetricsProjector
from journal.events import ErrorObserved, OrderAccepted, OrderSubmitted, PositionClosed, SignalDetected
from journal.writer import JournalWriter


def signal(ts):
    return SignalDetected(ts=ts, symbol="ETH/USDT", side="short", close=1, channel_high=2, channel_low=1.5, atr=1)


def closed(ts):
    return PositionClosed(ts=ts, symbol="ETH/USDT", side="short", trade_id=f"t{ts}", qty=1, entry_ts=0,
                          entry_price=10, exit_price=9, pnl=1, fees=0, reason="stop")


def fresh():
    registry = CollectorRegistry()
    return registry, MetricsProjector(registry, "main", "1h", ["BTC/USDT", "ETH/USDT"])


def counts(registry):
    get = registry.get_sample_value
    return (get("bot_signal_emitted_total", {"symbol": "ETH/USDT", "timeframe": "1h"}),
            get("bot_trade_count_total", {"account": "main"}),
            get("bot_order_errors_total", {"account": "main", "reason": "rate_limit"}))


def test_restart_replays_and_then_catches_up_incrementally(tmp_path):
    clock = iter(range(1_700_000_000_000, 1_700_000_100_000, 250))
    writer = JournalWriter.open(tmp_path, wall_clock=lambda: next(clock))
    writer.append([signal(1), signal(2), closed(3), ErrorObserved(ts=4, reason="rate_limit")])
    writer.append([OrderSubmitted(ts=5, client_id="c", symbol="ETH/USDT", side="sell", order_kind="market", qty=1,
                                  purpose="entry")])
    writer.append([OrderAccepted(ts=6, client_id="c", symbol="ETH/USDT")])
    live_registry, live = fresh()
    assert live.catch_up(tmp_path) == 6
    writer.append([signal(7), closed(8)])
    assert live.catch_up(tmp_path) == 2
    assert live.catch_up(tmp_path) == 0
    writer.close()

    restarted_registry, restarted = fresh()
    restarted.catch_up(tmp_path)
    assert counts(live_registry) == counts(restarted_registry) == (3.0, 2.0, 1.0)
    latency = restarted_registry.get_sample_value("order_latency_seconds_sum", {"account": "main", "kind": "market"})
    assert latency == 0.25  # recorded_at of the answer minus that of the submit
    assert restarted_registry.get_sample_value("bot_heartbeat_ts") == live_registry.get_sample_value("bot_heartbeat_ts")
