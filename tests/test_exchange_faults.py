"""The ccxt adapter against a fault-injecting exchange-sim: every fault kind becomes the
right ErrorObserved reason, and nothing is ever placed twice."""
from __future__ import annotations

import pytest

from conftest_exchange import adapter, make_adapter, sim  # noqa: F401 - fixtures
from exchange.sim.faults import FaultSpec
from journal.events import (
    CandleClosed, ClockObserved, ErrorObserved, OrderAccepted, OrderFilled, OrderRejected, OrderSubmitted,
)


def entry(sim, client_id: str = "run1-00000001", qty: float = 0.01, **kw) -> OrderSubmitted:
    fields = dict(ts=sim.venue.forming, client_id=client_id, symbol="BTC/USDT", side="buy", order_kind="market",
                  qty=qty, purpose="entry")
    fields.update(kw)
    return OrderSubmitted(**fields)


def candle(ts: int, symbol: str = "BTC/USDT") -> CandleClosed:
    return CandleClosed(ts=ts, symbol=symbol, timeframe="1h", open=1, high=1, low=1, close=1, volume=0)


def reasons(events) -> list[str]:
    return [e.reason for e in events if isinstance(e, ErrorObserved)]


def venue_orders(sim, client_id: str) -> int:
    return sum(o.client_id == client_id for o in sim.venue.orders.values())


@pytest.mark.parametrize("kind", ["timeout_after_accept", "drop_response"])
def test_lost_answer_after_accept_is_looked_up_never_resent(sim, adapter, kind):
    sim.set_faults(FaultSpec(rates={kind: 1.0}, hold_ms=1_000))
    events = adapter.submit(entry(sim))
    assert reasons(events) == ["network"]
    assert [type(e) for e in events[1:]] == [OrderAccepted, OrderFilled]
    assert venue_orders(sim, "run1-00000001") == 1
    assert sim.faults.injected[kind] == 1


def test_5xx_before_accept_is_resent_once_the_lookup_finds_nothing(sim, adapter):
    sim.set_faults(FaultSpec(rates={"http_5xx": 0.5}, seed=1))
    events = adapter.submit(entry(sim))
    assert "network" in reasons(events)
    assert any(isinstance(e, OrderAccepted) for e in events)
    assert venue_orders(sim, "run1-00000001") == 1


def test_5xx_on_every_request_gives_up_as_network_without_placing(sim, adapter):
    sim.set_faults(FaultSpec(rates={"http_5xx": 1.0}))
    events = adapter.submit(entry(sim))
    assert set(reasons(events)) == {"network"} and not any(isinstance(e, OrderAccepted) for e in events)
    sim.set_faults(FaultSpec())
    again = adapter.submit(entry(sim))  # the loop retries later: lookup first, then one placement
    assert any(isinstance(e, OrderAccepted) for e in again)
    assert venue_orders(sim, "run1-00000001") == 1


@pytest.mark.parametrize("kind", ["rate_limit", "ban"])
def test_rate_limit_and_ban_are_rate_limit(sim, adapter, kind):
    sim.set_faults(FaultSpec(rates={kind: 1.0}))
    events = adapter.submit(entry(sim))
    assert set(reasons(events)) == {"rate_limit"}
    assert all(e.code == -1003 for e in events if isinstance(e, ErrorObserved))
    assert venue_orders(sim, "run1-00000001") == 0


def test_auth_fault_is_auth_and_not_retried(sim, adapter):
    sim.set_faults(FaultSpec(rates={"auth": 1.0}))
    events = adapter.submit(entry(sim))
    assert reasons(events) == ["auth"]


def test_nonce_fault_is_nonce_then_resync(sim, adapter):
    sim.set_faults(FaultSpec(rates={"nonce": 1.0}))
    events = adapter.submit(entry(sim))
    assert "nonce" in reasons(events)
    assert any(isinstance(e, ClockObserved) for e in events)


def test_partial_fill_is_reported_and_completed_on_the_next_bar(sim, adapter):
    sim.set_faults(FaultSpec(rates={"partial_fill": 1.0}))
    order = entry(sim, qty=0.011)
    first = [e for e in adapter.submit(order) if isinstance(e, OrderFilled)]
    assert len(first) == 1 and first[0].cum_qty < first[0].order_qty == 0.011
    bar = sim.venue.forming
    sim.step(1)
    rest = [e for e in adapter.advance(candle(bar)) if isinstance(e, OrderFilled)]
    assert len(rest) == 1 and rest[0].cum_qty == pytest.approx(0.011)
    assert rest[0].ts == bar + 3_600_000 and rest[0].fill_id != first[0].fill_id
    assert adapter.advance(candle(bar)) == []  # fills are reported once


def test_wrong_key_or_secret_is_auth(sim):
    for key, secret in (("wrong-key", "test-secret-9a7b3d2c"), ("test-key-5f1e0c", "wrong-secret")):
        exchange = make_adapter(sim.url, key=key, secret=secret)
        events = exchange.submit(entry(sim))
        assert reasons(events) == ["auth"]


def test_skew_beyond_recv_window_is_nonce_then_recovered_by_resync(sim):
    sim.set_faults(FaultSpec(clock_skew_ms=45_000))
    exchange = make_adapter(sim.url)
    exchange.load_markets(["BTC/USDT"], ts=0)
    events = exchange.submit(entry(sim))
    assert reasons(events)[:2] == ["nonce", "time_drift"]
    clock = next(e for e in events if isinstance(e, ClockObserved))
    assert 43_000 < clock.drift_ms < 47_000
    assert any(isinstance(e, OrderAccepted) for e in events)
    later = exchange.submit(entry(sim, client_id="run1-00000002"))
    assert reasons(later) == []  # stays in sync


def test_restart_resubmitting_the_same_client_id_finds_the_order(sim, adapter):
    adapter.submit(entry(sim))  # a filled market order: Binance would accept its client id again
    fresh = make_adapter(sim.url)  # a new process: no memory of what was sent
    events = fresh.submit(entry(sim))
    assert any(isinstance(e, OrderAccepted) for e in events)
    assert venue_orders(sim, "run1-00000001") == 1 and sim.venue.duplicate_placements == 0


def test_rejections_carry_a_reason(sim, adapter):
    margin = adapter.submit(entry(sim, client_id="big", qty=5.0))
    small = adapter.submit(entry(sim, client_id="small", qty=0.001))
    assert [(e.reason, e.code) for e in margin if isinstance(e, OrderRejected)] == [("margin", -2019)]
    assert reasons(margin) == ["margin"]
    assert [e.reason for e in small if isinstance(e, OrderRejected)] == ["min_notional"]
    assert reasons(small) == ["rejected"]


def test_nonce_burst_after_resync_is_fatal_not_retried_forever(sim, adapter):
    sim.set_faults(FaultSpec(rates={"nonce": 1.0}))
    events = adapter.submit(entry(sim))
    assert reasons(events) == ["nonce", "nonce"]  # resync once, then stop
    assert sum(isinstance(e, ClockObserved) for e in events) == 1


def test_retry_waits_honour_retry_after():
    from tenacity import RetryCallState

    from exchange.binance_errors import Retryable
    from exchange.binance_retry import RetryPolicy

    policy = RetryPolicy(attempts=3, base_wait_s=0.25, max_wait_s=8.0)
    retrying = policy.retrying()

    def wait_after(error: Exception) -> float:
        state = RetryCallState(retrying, fn=None, args=(), kwargs={})
        state.set_exception((type(error), error, None))
        return retrying.wait(state)

    assert wait_after(Retryable("429", reason="rate_limit", retry_after=3.0)) == 3.0
    assert 0 < wait_after(Retryable("timeout")) <= 8.0
    # a ban longer than the longest in-call wait is not slept through: the call fails at once
    assert not policy.retries(Retryable("418", reason="rate_limit", retry_after=120.0))
    assert policy.retries(Retryable("429", reason="rate_limit", retry_after=3.0))


def test_restarted_adapter_does_not_report_old_fills_again(sim, adapter):
    adapter.submit(entry(sim))
    bar = sim.venue.forming
    sim.step(1)
    fresh = make_adapter(sim.url)
    fresh.load_markets(["BTC/USDT"], ts=0)
    assert [e for e in fresh.advance(candle(bar + 3_600_000)) if isinstance(e, OrderFilled)] == []


@pytest.mark.parametrize("kind", ["timeout_after_accept", "drop_response"])
def test_lost_cancel_answer_is_checked_and_reported_as_canceled(sim, adapter, kind):
    from journal.events import OrderCanceled, OrderCancelRequested

    adapter.submit(entry(sim))
    stop = entry(sim, client_id="run1-00000002", side="sell", order_kind="stop_market", stop_price=60_000.0,
                 reduce_only=True, purpose="stop")
    adapter.submit(stop)
    sim.set_faults(FaultSpec(rates={kind: 1.0}, hold_ms=800))
    events = adapter.cancel(OrderCancelRequested(ts=1, client_id="run1-00000002", symbol="BTC/USDT"))
    assert reasons(events) == ["network"]
    assert [(type(e), e.client_id) for e in events[1:]] == [(OrderCanceled, "run1-00000002")]
    assert [o.status for o in sim.venue.algos.values()] == ["CANCELED"]


class FakeTime:
    """Monotonic clock and sleep of the adapter: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def counting_requests(server) -> list[str]:
    hits: list[str] = []
    answer = server.answer

    def counting(method, path, *rest):
        if path.startswith("/fapi/"):
            hits.append(path)
        return answer(method, path, *rest)

    server.answer = counting
    return hits


def test_an_ip_ban_is_remembered_and_no_request_is_sent_until_its_retry_after_has_passed():
    from exchange.binance_retry import RetryPolicy
    from conftest_exchange import start_sim
    from journal.events import EquityObserved

    server = start_sim(retry_after_s=120, faults=FaultSpec(rates={"ban": 1.0}))
    hits = counting_requests(server)
    fake = FakeTime()
    try:
        exchange = make_adapter(server.url, retry=RetryPolicy(sleep=fake.sleep), monotonic=fake.monotonic)
        assert reasons(exchange.observe_equity(0)) == ["rate_limit"] and len(hits) == 1  # 418: not retried
        fake.now += 100
        assert reasons(exchange.observe_equity(0)) == ["rate_limit"]  # 20 s still to go: fails at once ...
        assert reasons(exchange.submit(entry(server))) == ["rate_limit"]
        assert len(hits) == 1 and fake.slept == []  # ... sending nothing, sleeping never
        fake.now += 20
        server.set_faults(FaultSpec())  # the venue lifts the ban
        assert isinstance(exchange.observe_equity(0)[-1], EquityObserved) and len(hits) > 1  # asks again
    finally:
        server.stop()


def test_a_short_retry_after_is_waited_out_inside_the_call():
    from exchange.binance_retry import RetryPolicy
    from conftest_exchange import start_sim
    from journal.events import EquityObserved

    server = start_sim(retry_after_s=3, faults=FaultSpec(rates={"rate_limit": 1.0}))
    fake = FakeTime()
    try:
        exchange = make_adapter(server.url, retry=RetryPolicy(sleep=lambda s: (fake.sleep(s),
                                                                               server.set_faults(FaultSpec()))),
                                monotonic=fake.monotonic)
        events = exchange.observe_equity(0)
        assert reasons(events) == ["rate_limit"] and isinstance(events[-1], EquityObserved)
        assert fake.slept == [3.0]  # the venue's Retry-After, not a guess
    finally:
        server.stop()


def test_errors_are_stamped_on_the_shells_clock_when_it_is_given(sim):
    """Placement errors and polling errors of one burst sit in the same kill-switch window:
    both carry the shell's clock, not the order's bar time."""
    ticks = iter(range(1_900_000_000_000, 1_900_000_000_000 + 1_000_000, 1_000))
    exchange = make_adapter(sim.url, now_ms=lambda: next(ticks))
    exchange.load_markets(["BTC/USDT"], ts=sim.venue.forming)
    sim.set_faults(FaultSpec(rates={"http_5xx": 1.0}))
    order = entry(sim)
    errors = [e for e in exchange.submit(order) if isinstance(e, ErrorObserved)]
    assert errors and all(e.ts >= 1_900_000_000_000 for e in errors)
    assert [e.ts for e in errors] == sorted(e.ts for e in errors) and errors[0].ts != order.ts


def test_without_a_clock_errors_keep_the_time_they_were_given(sim, adapter):
    sim.set_faults(FaultSpec(rates={"http_5xx": 1.0}))
    order = entry(sim)
    assert {e.ts for e in adapter.submit(order) if isinstance(e, ErrorObserved)} == {order.ts}
