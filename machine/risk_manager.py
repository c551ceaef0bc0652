"""`RiskManager`: the seed's risk API as a thin facade over `machine.risk`.

Same functions the decider uses, so a caller of the seed API sizes, stops and
filters exactly like the journaled bot (quantities and stops rounded to the default
step/tick of `Params`, as the core does for a symbol without a MarketLoaded).
State is a plain dict kept in memory only; the journal is the bot's source of truth.
"""
from __future__ import annotations

from typing import Any

from machine.params import Params
from machine.risk import (
    breakeven_reached,
    daily_loss_hit,
    floor_to_step,
    initial_stop,
    notional_cap,
    pyramid_add,
    qty_by_risk,
    step_decimals,
    stop_toward_price,
    tighter,
    trail_stop_price,
)


class RiskManager:
    def __init__(self, state: dict | None = None, params: Params | None = None):
        self.params = params or Params()
        self.state: dict[str, Any] = dict(state or {})
        self.state.setdefault("symbols", {})
        self._tick_dec = step_decimals(self.params.default_tick_size)
        self._step_dec = step_decimals(self.params.default_step_size)

    # ------------------------------------------------------------------ sizing
    def calc_qty_by_risk(self, equity_usdt: float, price: float, atr_abs: float, leverage: float,
                         symbol: str = "") -> float:
        return self.calc_qty_by_risk_adjusted(equity_usdt, price, atr_abs, leverage, symbol)

    def calc_qty_by_risk_adjusted(self, equity_usdt: float, price: float, atr_abs: float, leverage: float,
                                  symbol: str = "", risk_pct: float | None = None) -> float:
        """Risk `risk_pct` of equity at atr_stop_k*ATR, capped by leverage and position_cap,
        rounded down to the step; 0.0 when below the minimum notional."""
        p = self.params
        if not price > 0:
            return 0.0
        raw = qty_by_risk(equity_usdt, p.atr_stop_k * atr_abs, p.risk_pct if risk_pct is None else risk_pct)
        cap = notional_cap(equity_usdt, leverage, p.position_cap) / price
        qty = floor_to_step(min(raw, cap), p.default_step_size, self._step_dec)
        return qty if qty * price >= p.default_min_notional else 0.0

    # ------------------------------------------------------------------ stops
    def initial_stop(self, side: str, entry_price: float, atr_abs: float) -> float:
        return initial_stop(side, entry_price, atr_abs, self.params, self.params.default_tick_size, self._tick_dec)

    def trail_stop_price(self, side: str, entry_price: float, last_price: float, atr_abs: float,
                         be_promoted: bool, entry_atr: float | None = None) -> float:
        """Where the trail wants the stop now, on the tick grid (callers never loosen). The breakeven
        offset is in entry ATRs, as the bot's (`entry_atr`; the seed's signature falls back to `atr_abs`)."""
        # bool()/float(): a caller's numpy scalars (np.bool_ is no bool to the compiled core's typed functions)
        raw = trail_stop_price(side, float(entry_price), float(last_price), float(atr_abs), bool(be_promoted),
                               self.params, None if entry_atr is None else float(entry_atr))
        return stop_toward_price(side, raw, self.params.default_tick_size, self._tick_dec)

    def update_symbol_state_on_entry(self, symbol: str, side: str, entry_px: float, qty: float = 0) -> dict:
        entry = {"side": side, "entry_px": entry_px, "qty": qty, "initial_qty": qty, "stop": None,
                 "entry_atr": None, "be_promoted": False, "pyramid_level": 0}
        self.state["symbols"][symbol] = entry
        return dict(entry)

    def update_after_move(self, symbol: str, atr_abs: float, last_price: float,
                          equity: float | None = None) -> dict | None:
        """Per closed bar: breakeven/trailing (never loosens) and the next pyramid add, if due.

        The add is the bot's (`machine.risk.pyramid_add`): within the position cap's room at `equity`
        (default: the day's anchor equity from `reset_daily_anchor`) and above the minimum notional."""
        s = self.state["symbols"].get(symbol)
        if s is None:
            return None
        p = self.params
        if s["entry_atr"] is None:
            s["entry_atr"] = atr_abs
            s["stop"] = self.initial_stop(s["side"], s["entry_px"], atr_abs)
        side = s["side"]
        be = bool(s["be_promoted"]) or breakeven_reached(side, float(s["entry_px"]), float(last_price),
                                                         float(s["entry_atr"]), p)
        cand = self.trail_stop_price(side, s["entry_px"], last_price, atr_abs, be, s["entry_atr"])
        moved = tighter(side, cand, s["stop"]) and tighter(side, last_price, cand)
        if moved:
            s["stop"] = cand
        s["be_promoted"] = be
        result = {"symbol": symbol, "stop": s["stop"], "moved": moved, "be_promoted": be, "pyramid_qty": 0.0}
        level = s["pyramid_level"]
        if p.enable_pyramiding and level < len(p.pyramid_levels):
            mult, frac = p.pyramid_levels[level]
            trig = s["entry_px"] + mult * s["entry_atr"] if side == "long" else s["entry_px"] - mult * s["entry_atr"]
            eq = equity if equity is not None else float(self.state.get("anchor_equity") or 0.0)
            if ((last_price >= trig) if side == "long" else (last_price <= trig)) and not self.hit_daily_loss_limit(eq):
                add = pyramid_add(frac, s["initial_qty"], s["qty"], last_price, eq, p, p.default_step_size,
                                  self._step_dec, 0.0, p.default_min_notional)
                if add > 0:
                    result["pyramid_qty"] = add
                    result["pyramid_level"] = level + 1
                    s["pyramid_level"] = level + 1
                    s["qty"] = s["qty"] + add
        return result

    # ------------------------------------------------------------------ daily anchor
    def reset_daily_anchor(self, equity: float, day: str | None = None) -> bool:
        """Anchor the day's equity. With `day`, only the first call of that day resets."""
        if day is not None and self.state.get("anchor_day") == day:
            return False
        self.state["anchor_day"] = day
        self.state["anchor_equity"] = float(equity)
        return True

    def hit_daily_loss_limit(self, equity: float) -> bool:
        return daily_loss_hit(equity, float(self.state.get("anchor_equity", 0.0)), self.params.daily_loss_limit)

    # ------------------------------------------------------------------ structural reset
    def note_exit(self, symbol: str, side: str) -> None:
        self.state["symbols"].pop(symbol, None)
        self.state.setdefault("blocked", {})[f"{symbol}:{side}"] = True

    def can_reenter(self, symbol: str, side: str) -> bool:
        return not self.state.get("blocked", {}).get(f"{symbol}:{side}", False)

    def check_structural_reset(self, symbol: str, close: float, channel_high: float, channel_low: float) -> list[str]:
        """Sides unblocked by this close (a close back inside the channel)."""
        blocked = self.state.get("blocked", {})
        freed = []
        if blocked.get(f"{symbol}:long") and close <= channel_high:
            freed.append("long")
        if blocked.get(f"{symbol}:short") and close >= channel_low:
            freed.append("short")
        for side in freed:
            blocked.pop(f"{symbol}:{side}")
        return freed
