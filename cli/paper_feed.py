"""Offline candles replayed as if live: each bar becomes available at its close time,
`speed` times faster than real time (or at once with `max`), on an injected Clock.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from cli.clock import Clock
from journal.errors import BadInput
from journal.events import CandleClosed


def parse_speed(text: str) -> float | None:
    """`max` -> None (no waiting); `N` -> N x real time (N > 0)."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise BadInput(f"--speed {text!r}: expected max or a positive number (a multiple of real time)") from None
    if not speed > 0 or speed == float("inf"):
        raise BadInput(f"--speed {text!r}: expected max or a positive number (a multiple of real time)")
    return speed


def paced(candles: Iterable[CandleClosed], clock: Clock, speed: float | None, bar_ms: int,
          should_stop: Callable[[], bool] = lambda: False) -> Iterator[CandleClosed]:
    """Yield each candle once its (scaled) close time has come; stop early when asked.
    `candles` may be lazy (a filtered `CandleSet`): time is counted from the first one."""
    origin_wall = origin_close = 0
    first = True
    for candle in candles:
        if should_stop():
            return
        if speed is not None:
            if first:
                origin_wall, origin_close = clock.now_ms(), candle.ts + bar_ms
            due = origin_wall + int((candle.ts + bar_ms - origin_close) / speed)
            while clock.now_ms() < due and not should_stop():
                clock.sleep_until(min(due, clock.now_ms() + 200))
            if should_stop():
                return
        first = False
        yield candle
