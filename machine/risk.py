"""Sizing, rounding, stops and filters as plain functions of numbers (no state, no I/O).

The decider and the seed-API facades (`machine.engine`, `machine.risk_manager`) call
these same functions, so both make identical decisions.
"""
from __future__ import annotations

from typing import Final

import math

from machine.params import Params, PositionCap
from machine.rounding import round_to

_EPS: Final = 1e-9


def step_decimals(step: float) -> int:
    """Decimal places of a tick/step (0.001 -> 3), so rounded values print cleanly."""
    text = f"{step:.12f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def floor_to_step(value: float, step: float, decimals: int) -> float:
    """Round down to a multiple of step (quantities: never more than planned)."""
    if step <= 0:
        return value
    return round_to(math.floor(value / step + _EPS) * step, decimals)


def ceil_to_step(value: float, step: float, decimals: int) -> float:
    if step <= 0:
        return value
    return round_to(math.ceil(value / step - _EPS) * step, decimals)


def stop_toward_price(side: str, raw_stop: float, tick: float, decimals: int) -> float:
    """Round a stop onto the tick grid on the price's side (long: up, short: down), so
    the stop distance, hence the risk, never exceeds the unrounded one."""
    if side == "long":
        return ceil_to_step(raw_stop, tick, decimals)
    return floor_to_step(raw_stop, tick, decimals)


def notional_cap(equity: float, leverage: float, cap: PositionCap) -> float:
    """Max notional: clamp(multiple*equity, min, max), and never above equity*leverage."""
    capped = min(max(cap.multiple * equity, cap.min), cap.max)
    return min(capped, equity * leverage)


def qty_by_risk(equity: float, stop_distance: float, risk_pct: float) -> float:
    """Quantity whose loss at the stop is risk_pct of equity (0 when the distance is not positive)."""
    if stop_distance <= 0 or equity <= 0:
        return 0.0
    return equity * risk_pct / stop_distance


def initial_stop(side: str, entry: float, atr: float, params: Params, tick: float, decimals: int) -> float:
    raw = entry - params.atr_stop_k * atr if side == "long" else entry + params.atr_stop_k * atr
    return stop_toward_price(side, raw, tick, decimals)


def size_entry(
    equity: float,
    price: float,
    atr: float,
    params: Params,
    step: float,
    step_dec: int,
    min_qty: float,
    min_notional: float,
) -> tuple[float, float, str | None]:
    """(qty, risk_amount, filter_reason): risk-based qty capped by leverage and position_cap,
    rounded down to the step. reason: atr_zero, min_notional (risk size too small), cap
    (only the cap pushed it below the venue minimum)."""
    distance = params.atr_stop_k * atr
    if not distance > 0 or not price > 0:
        return 0.0, 0.0, "atr_zero"
    risk_amount = equity * params.risk_pct
    raw = qty_by_risk(equity, distance, params.risk_pct)
    cap_qty = notional_cap(equity, params.leverage, params.position_cap) / price
    capped = raw > cap_qty
    qty = floor_to_step(min(raw, cap_qty), step, step_dec)
    if qty <= 0 or qty < min_qty or qty * price < min_notional:
        return 0.0, risk_amount, "cap" if capped else "min_notional"
    return qty, risk_amount, None


def trail_stop_price(side: str, entry: float, last: float, atr: float, be_promoted: bool, params: Params,
                     entry_atr: float | None = None) -> float:
    """The stop the trail wants now (unrounded): last -/+ atr_trail_k*ATR, and at least
    breakeven (entry +/- breakeven_offset_atr * the entry's ATR; the current ATR when
    `entry_atr` is not given) once promoted. Callers keep the tighter of this and the
    current stop: a stop never loosens."""
    offset = params.breakeven_offset_atr * (atr if entry_atr is None else entry_atr)
    if side == "long":
        cand = last - params.atr_trail_k * atr
        if be_promoted:
            cand = max(cand, entry + offset)
        return cand
    cand = last + params.atr_trail_k * atr
    if be_promoted:
        cand = min(cand, entry - offset)
    return cand


def pyramid_add(frac: float, initial_qty: float, pos_qty: float, close: float, equity: float, params: Params,
                step: float, step_dec: int, min_qty: float, min_notional: float) -> float:
    """The next pyramid add: `frac` of the initial size within the position cap's room at `close`,
    rounded down to the step; 0.0 when that is below the venue's minimum quantity or notional."""
    room = notional_cap(equity, params.leverage, params.position_cap) / close - pos_qty
    add = floor_to_step(min(frac * initial_qty, room), step, step_dec)
    if add <= 0 or add < min_qty or add * close < min_notional:
        return 0.0
    return add


def breakeven_reached(side: str, entry: float, last: float, entry_atr: float, params: Params) -> bool:
    if params.breakeven_atr_k <= 0:
        return False
    move = last - entry if side == "long" else entry - last
    return move >= params.breakeven_atr_k * entry_atr


def tighter(side: str, new: float, current: float) -> bool:
    return new > current if side == "long" else new < current


def in_funding_window(decision_ts: int, params: Params) -> bool:
    """True within funding_avoid_min minutes of a funding time (every funding_interval_h, from 00 UTC)."""
    if params.funding_avoid_min <= 0:
        return False
    interval = params.funding_interval_h * 3_600_000
    phase = decision_ts % interval
    return min(phase, interval - phase) <= params.funding_avoid_min * 60_000


def daily_loss_hit(equity: float, anchor_equity: float, limit: float) -> bool:
    return anchor_equity > 0 and limit > 0 and equity <= anchor_equity * (1.0 - limit)
