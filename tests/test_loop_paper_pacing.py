"""Paper candles are released at their (scaled) close times on the injected clock."""
from __future__ import annotations

import pytest

from cli.clock import SimClock
from cli.paper_feed import paced, parse_speed
from journal.errors import BadInput
from journal.events import CandleClosed

H = 3_600_000


def candles(n: int) -> list[CandleClosed]:
    out = []
    for i in range(n):
        for symbol in ("BTC/USDT", "ETH/USDT"):
            out.append(CandleClosed(ts=i * H, symbol=symbol, timeframe="1h", open=1, high=1, low=1, close=1,
                                    volume=1))
    return out


def release_times(speed: float | None, n: int = 4) -> list[int]:
    clock = SimClock(start_ms=1_000)
    return [clock.now_ms() for _ in paced(candles(n), clock, speed, H)]


def test_speed_n_releases_each_bar_n_times_faster_than_real_time():
    # bar k closes k hours after the first close; at 3600x that is k seconds on the clock
    assert release_times(3600.0) == [1_000, 1_000, 2_000, 2_000, 3_000, 3_000, 4_000, 4_000]


def test_real_time_waits_a_whole_bar_and_max_never_waits():
    assert release_times(1.0, n=2) == [1_000, 1_000, 1_000 + H, 1_000 + H]
    assert release_times(None) == [1_000] * 8


def test_a_lazy_feed_is_paced_from_its_first_candle():
    """`bot live` filters a restart's already-recorded bars lazily: the clock starts at the first bar left."""
    clock = SimClock(start_ms=1_000)
    lazy = (c for c in candles(4) if c.ts >= 2 * H)
    assert [(c.ts, clock.now_ms()) for c in paced(lazy, clock, 3600.0, H)] == [
        (2 * H, 1_000), (2 * H, 1_000), (3 * H, 2_000), (3 * H, 2_000)]
    assert list(paced(iter([]), clock, 3600.0, H)) == []


def test_a_stop_request_ends_the_feed_before_the_next_bar():
    clock = SimClock()
    seen = []
    for candle in paced(candles(5), clock, 3600.0, H, should_stop=lambda: len(seen) >= 3):
        seen.append(candle)
    assert len(seen) == 3


@pytest.mark.parametrize("text", ["fast", "0", "-2", "inf", ""])
def test_bad_speeds_are_bad_input(text):
    with pytest.raises(BadInput, match="--speed"):
        parse_speed(text)
    assert parse_speed("MAX") is None and parse_speed("2.5") == 2.5
