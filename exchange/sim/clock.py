"""The sim's two clocks.

- Market clock: where the replayed candles are. Starts at a bar's open time and runs
  at `speed` x real time (0 = frozen), plus whatever tests step it by.
- Wall clock: what Binance checks `timestamp`/`recvWindow` against and answers on
  /fapi/v1/time, shifted by an injected skew (`clock_skew_ms` fault).
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class MarketClock:
    """Simulated market time in int ms UTC."""

    def __init__(self, start_ms: int, bar_ms: int, speed: float = 1.0,
                 wall: Callable[[], float] = time.monotonic) -> None:
        self.start_ms = start_ms
        self.bar_ms = bar_ms
        self.speed = speed
        self._wall = wall
        self._wall0 = wall()
        self._stepped_ms = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            elapsed = (self._wall() - self._wall0) * 1000.0 * self.speed
            return self.start_ms + int(elapsed) + self._stepped_ms

    def forming_open_ms(self) -> int:
        """Open time of the bar that is forming now (the last closed bar is one before)."""
        now = self.now_ms()
        return now - (now - self.start_ms) % self.bar_ms

    def step(self, bars: int) -> int:
        """Move market time forward by whole bars (tests and demos); returns the new time."""
        with self._lock:
            self._stepped_ms += bars * self.bar_ms
        return self.now_ms()


class WallClock:
    """Server wall time for signature windows, with an injectable skew."""

    def __init__(self, skew_ms: int = 0, wall: Callable[[], float] = time.time) -> None:
        self.skew_ms = skew_ms
        self._wall = wall

    def now_ms(self) -> int:
        return int(self._wall() * 1000) + self.skew_ms
