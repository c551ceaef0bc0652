"""The Clock and id-source ports: the only places a run meets wall time or randomness.

Backtests and tests get `SimClock` (time moves only when told) and `FixedIds`; live
and paper-live get `WallClock` and `RandomIds`. `machine/` never sees either: the
shell stamps events with candle or exchange time and hands run ids in as data.
"""
from __future__ import annotations

import time
import uuid
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Current time, int ms UTC."""

    def sleep_until(self, ts_ms: int) -> None:
        """Block until `ts_ms` (returns at once when it is already past)."""


class SimClock:
    """A test/backtest clock: `advance()` moves it, sleeping just jumps ahead."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, ms: int) -> int:
        if ms < 0:
            raise ValueError("a clock never runs backwards")
        self._now += ms
        return self._now

    def sleep_until(self, ts_ms: int) -> None:
        self._now = max(self._now, ts_ms)


class WallClock:
    """Real time (UTC epoch ms) and real sleeps."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def sleep_until(self, ts_ms: int) -> None:
        while True:
            remaining = ts_ms - self.now_ms()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 1_000) / 1_000.0)


class IdSource(Protocol):
    def run_id(self, prefix: str) -> str:
        """A fresh run id."""


class FixedIds:
    """Deterministic ids (backtests: the id is derived from the inputs; tests)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def run_id(self, prefix: str) -> str:
        return f"{prefix}-{self._token}"


class RandomIds:
    """Unique ids for live sessions: client order ids of two sessions never collide.

    The random part comes first: the client order id prefix is the run id's first 12 alphanumerics
    (`machine.ids.prefix_from_run_id`), so `<12 hex>-<mode>` gives every mode 48 random bits there, where
    `<mode>-<hex>` left a testnet journal 20 (two bots on one account could share a prefix and take
    each other's orders for their own). Journals recorded before keep their ids: the prefix is always
    derived from the run id the journal recorded."""

    def run_id(self, prefix: str) -> str:
        return f"{uuid.uuid4().hex[:12]}-{prefix}"
