"""Helpers for the core's scenario tests: hand-written candles driven through the
reference loop (`machine.sim_venue.run_loop`), and small selectors over the result."""
from __future__ import annotations

from typing import Iterable, Sequence

from journal import events as ev
from machine.decider import initial_state
from machine.params import Params
from machine.sim_venue import SimVenue, run_loop

H = 3_600_000
T0 = 1_704_070_800_000  # 2024-01-01 01:00 UTC: bar closes stay clear of funding times unless a test wants one
SYMBOL = "BTC/USDT"

# Small windows so a scenario fits in a handful of rows; every rule not under test is off.
SCENARIO = Params(
    donchian_len=3,
    atr_len=2,
    funding_avoid_min=0,
    enable_pyramiding=False,
    breakeven_atr_k=0.0,
    atr_trail_k=50.0,
    daily_loss_limit=0.0,
)
FLAT = (100.0, 101.0, 99.0, 100.0)  # warm-up bar: TR 2, channel 99..101


def candles(rows: Sequence[tuple[float, float, float, float]], symbol: str = SYMBOL, t0: int = T0,
            start: int = 0) -> list[ev.CandleClosed]:
    return [
        ev.CandleClosed(ts=t0 + (start + i) * H, symbol=symbol, timeframe="1h", open=o, high=h, low=lo, close=c,
                        volume=1.0)
        for i, (o, h, lo, c) in enumerate(rows)
    ]


def session(ts: int = T0, run_id: str = "run-0001") -> ev.SessionStarted:
    return ev.SessionStarted(ts=ts, run_id=run_id, mode="backtest", version="test", config_digest="test")


def run(rows_or_events: Iterable, params: Params = SCENARIO, venue: SimVenue | None = None):
    """Run candles (tuples become BTC/USDT bars from T0) and any interleaved input events."""
    items = list(rows_or_events)
    if items and isinstance(items[0], tuple):
        items = candles(items)
    inputs = [session()] + items
    state, journal = run_loop(initial_state(params), params, inputs, venue or SimVenue(params))
    return state, journal


def of(journal: Iterable[ev.Event], *types: type) -> list:
    return [e for e in journal if isinstance(e, types)]


def kinds(journal: Iterable[ev.Event]) -> list[str]:
    return [ev.kind_of(e) for e in journal]


def bar_ts(i: int) -> int:
    return T0 + i * H
