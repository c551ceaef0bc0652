"""Decisions on a closed bar: daily anchor, structural reset, breakout signal and entry,
and the management of an open position (equity mark, trail/breakeven, pyramiding).

Called with the state after the bar was folded in, so `state.ind[symbol]` holds the
channel of the bars before this one and the ATR including it. Every bar-derived
event carries the bar's open time as `ts`.
"""
from __future__ import annotations

from typing import Final

from journal import events as ev
from machine import emergency
from machine.emit import Out, close_side, open_side
from machine.indicators import Ind
from machine.params import Params
from machine.records import replace
from machine.risk import (
    breakeven_reached,
    in_funding_window,
    initial_stop,
    pyramid_add,
    size_entry,
    stop_toward_price,
    tighter,
    trail_stop_price,
)
from machine.state import EMPTY_SYM, State, Sym, equity, market_of, unrealized

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_DailyAnchorReset: Final = ev.DailyAnchorReset
_EntryPlanned: Final = ev.EntryPlanned
_EquityMarked: Final = ev.EquityMarked
_PyramidAdded: Final = ev.PyramidAdded
_SignalDetected: Final = ev.SignalDetected
_SignalFiltered: Final = ev.SignalFiltered
_StopMoved: Final = ev.StopMoved
_StructuralReset: Final = ev.StructuralReset

DAY_MS: Final = 86_400_000


def utc_day(day_number: int) -> str:
    """ISO date of a day number (days since 1970-01-01), by integer arithmetic (H. Hinnant's
    civil_from_days): the same string as strftime("%Y-%m-%d") for years 1000-9999, without a datetime
    per day."""
    z = day_number + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return f"{year:04d}-{month:02d}-{day:02d}"


def decide_candle(state: State, e: ev.CandleClosed, p: Params) -> list[ev.Event]:
    symbol = e.symbol
    ind = state.ind.get(symbol)
    if ind is None or ind.ts != e.ts:
        last = -1 if ind is None else ind.ts
        return [ev.ErrorRaised(ts=e.ts, symbol=symbol, reason="stale_candle", detail=f"bar {e.ts} <= last {last}")]
    out: list[ev.Event] = []
    ts = ind.ts  # the bar's open time (== e.ts, checked above), read natively
    day = (ts + state.bar_ms) // DAY_MS  # the UTC day this bar's close (the decision) belongs to
    new_anchor = day != state.anchor_day  # the bar closing at 00:00 anchors the day with the equity at 00:00
    if new_anchor:
        out.append(_DailyAnchorReset(ts=ts, day=utc_day(day), equity=equity(state)))
    sym = state.sym.get(symbol, EMPTY_SYM)
    if sym.pos is not None:
        _manage_position(state, e, ind, sym, p, out)
        return out
    close = ind.close
    if sym.block_long and close <= ind.ch_high:
        out.append(_StructuralReset(ts=ts, symbol=symbol, side="long"))
        sym = replace(sym, block_long=False)
    if sym.block_short and close >= ind.ch_low:
        out.append(_StructuralReset(ts=ts, symbol=symbol, side="short"))
        sym = replace(sym, block_short=False)
    if close > ind.ch_high:
        side = "long"
    elif close < ind.ch_low:
        side = "short"
    else:
        return out
    if sym.phase not in ("flat", "halted"):
        return out  # an entry or exit is in flight: not flat, no signal
    _signal(state, e, ind, sym, side, p, new_anchor, out)
    return out


def _signal(state: State, e: ev.CandleClosed, ind: Ind, sym: Sym, side: str, p: Params, new_anchor: bool,
            out: list[ev.Event]) -> None:
    """Exactly one signal event for a breakout bar on a flat symbol: detected (+plan, order) or filtered."""
    ts, symbol = e.ts, e.symbol
    close, atr = ind.close, ind.atr
    reason = None
    if atr != atr:
        reason = "warmup"
    elif state.halted_all or sym.phase == "halted":
        reason = "halted"
    elif state.protect_only:
        reason = "protect_only"
    elif state.daily_loss_hit and not new_anchor:
        reason = "daily_loss"
    elif state.dd_emergency_day == (ts + state.bar_ms) // DAY_MS:
        reason = "daily_dd"
    elif in_funding_window(ts + state.bar_ms, p):
        reason = "funding_window"
    elif sym.block_long if side == "long" else sym.block_short:
        reason = "reentry_blocked"
    market = market_of(state, symbol)
    eq = equity(state)
    qty = 0.0
    if reason is None:
        qty, _, reason = size_entry(eq, close, atr, p, market.step, market.step_dec, market.min_qty,
                                    market.min_notional)
    common = dict(ts=ts, symbol=symbol, side=side, close=close, channel_high=ind.ch_high,
                  channel_low=ind.ch_low, atr=atr)
    if reason is not None:
        out.append(_SignalFiltered(reason=reason, **common))
        return
    stop = initial_stop(side, close, atr, p, market.tick, market.tick_dec)
    out.append(_SignalDetected(**common))
    out.append(_EntryPlanned(ts=ts, symbol=symbol, side=side, qty=qty, ref_price=close, stop_price=stop,
                             atr=atr, risk_amount=qty * abs(close - stop), notional=qty * close, equity=eq))
    Out(state, out).order(ts, symbol, open_side(side), "market", qty, "entry")


def _manage_position(state: State, e: ev.CandleClosed, ind: Ind, sym: Sym, p: Params,
                     out: list[ev.Event]) -> None:
    ts = e.ts
    pos = sym.pos
    assert pos is not None
    cash = state.cash
    upnl = unrealized(state)
    out.append(_EquityMarked(ts=ts, equity=cash + upnl, realized=cash, unrealized=upnl))
    if emergency.daily_dd_tripped(state, ts, cash + upnl, p) and emergency.on_daily_dd(state, ts, p, out):
        return  # the emergency policy placed orders on this bar
    if sym.exit_id is not None or sym.stop_id is None:
        return  # exiting, or the stop is being (re)placed by the order flow
    side = pos.side
    close, atr = ind.close, ind.atr
    be = breakeven_reached(side, pos.entry_price, close, pos.entry_atr, p)
    raw = trail_stop_price(side, pos.entry_price, close, atr, be, p, pos.entry_atr)
    emit = None
    if tighter(side, raw, sym.stop_price):  # cheap filter: rounding toward price cannot make a looser raw tighter
        emit = _trail(state, e, sym, side, close, atr, raw, be, p, out)
    if p.enable_pyramiding and pos.pyr_next < len(p.pyramid_levels) and sym.pyr_id is None:
        _maybe_pyramid(state, e, sym, close, p, out, emit)


def _trail(state: State, e: ev.CandleClosed, sym: Sym, side: str, close: float, atr: float, raw: float, be: bool,
           p: Params, out: list[ev.Event]) -> Out | None:
    """Move the stop to the tick-rounded trail when that is tighter and still on the safe side
    of the close: the new stop first, then the cancel of the old one."""
    ts, symbol = e.ts, e.symbol
    market = market_of(state, symbol)
    new = stop_toward_price(side, raw, market.tick, market.tick_dec)
    if not (tighter(side, new, sym.stop_price) and tighter(side, close, new)):
        return None
    trail_only = close - p.atr_trail_k * atr if side == "long" else close + p.atr_trail_k * atr
    reason = "breakeven" if be and tighter(side, raw, trail_only) else "trail"
    out.append(_StopMoved(ts=ts, symbol=symbol, side=side, stop_price=new, reason=reason,
                          prev_stop=sym.stop_price))
    emit = Out(state, out)
    qty = sym.pos.qty  # type: ignore[union-attr]
    emit.order(ts, symbol, close_side(side), "stop_market", qty, "stop", stop_price=new,
               reduce_only=True)
    emit.cancel(ts, symbol, sym.stop_id, "replaced")
    return emit


def _maybe_pyramid(state: State, e: ev.CandleClosed, sym: Sym, close: float, p: Params, out: list[ev.Event],
                   emit: Out | None) -> None:
    ts, symbol = e.ts, e.symbol
    pos = sym.pos
    assert pos is not None
    levels = p.pyramid_levels
    if (sym.pyr_id is not None
            or sym.phase == "halted" or state.halted_all or state.protect_only or state.daily_loss_hit):
        return
    mult, frac = levels[pos.pyr_next]
    long = pos.side == "long"
    trigger = pos.entry_price + mult * pos.entry_atr if long else pos.entry_price - mult * pos.entry_atr
    if (close < trigger) if long else (close > trigger):
        return
    market = market_of(state, symbol)
    add = pyramid_add(frac, pos.initial_qty, pos.qty, close, equity(state), p, market.step, market.step_dec,
                      market.min_qty, market.min_notional)
    if not add > 0:
        return
    emit = emit or Out(state, out)
    emit.add(_PyramidAdded(ts=ts, symbol=symbol, side=pos.side, level=pos.pyr_next + 1, qty=add,
                           trigger_price=trigger))
    emit.order(ts, symbol, open_side(pos.side), "market", add, "pyramid")
