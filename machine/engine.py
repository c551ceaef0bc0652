"""`DonchianATREngine`: the seed's strategy API as a thin facade over the core.

`detect_signal` folds the frame through the same indicator recurrence as the
decider; `make_entry_plan` applies the same filters in the same order (daily loss,
funding window, re-entry, then sizing) and the same sizing and stop rounding, so the
seed's API and the journaled bot agree. `persist_state` is accepted for
compatibility: nothing is written to disk (the journal is the source of truth).
"""
from __future__ import annotations

from typing import Any

from machine.indicators import last_indicators
from machine.params import Params
from machine.risk import size_entry, step_decimals
from machine.risk_manager import RiskManager


class DonchianATREngine:
    def __init__(self, persist_state: bool = True, initial_state: dict | None = None,
                 risk_manager: RiskManager | None = None, params: Params | None = None):
        self.params = params or (risk_manager.params if risk_manager else Params())
        self.persist_state = persist_state
        self.state: dict[str, Any] = dict(initial_state or {})
        self.risk = risk_manager or RiskManager(self.state.get("risk"), self.params)

    def reset_daily_anchor(self, equity: float) -> None:
        self.risk.reset_daily_anchor(equity)

    def detect_signal(self, df) -> dict:
        """Breakout of the last closed bar of `df` vs the `donchian_len` bars before it."""
        p = self.params
        ts = df["timestamp"].to_numpy() if "timestamp" in df else range(len(df))
        ind = last_indicators(ts, df["high"].to_numpy(), df["low"].to_numpy(), df["close"].to_numpy(),
                              p.donchian_len, p.atr_len)
        side = "long" if ind.close > ind.ch_high else "short" if ind.close < ind.ch_low else None
        return {"signal": side, "ts": int(ind.ts), "close": ind.close, "channel_high": ind.ch_high,
                "channel_low": ind.ch_low, "atr": ind.atr}

    def make_entry_plan(self, symbol: str, df, equity: float, price: float, atr_abs: float, is_new_bar: bool,
                        can_reenter: bool, funding_avoid: bool, daily_loss_hit: bool) -> dict:
        """{'action': 'enter', ...plan} | {'action': 'skip', 'reason': ...} | {'action': 'none', ...}."""
        p = self.params
        if not is_new_bar:
            return {"action": "none", "symbol": symbol, "reason": "not_new_bar"}
        sig = self.detect_signal(df)
        side = sig["signal"]
        if side is None:
            return {"action": "none", "symbol": symbol, "reason": "no_breakout", **sig}
        reason = None
        if atr_abs != atr_abs:
            reason = "warmup"
        elif daily_loss_hit:
            reason = "daily_loss"
        elif funding_avoid:
            reason = "funding_window"
        elif not can_reenter:
            reason = "reentry_blocked"
        qty = 0.0
        if reason is None:
            qty, _, reason = size_entry(equity, price, atr_abs, p, p.default_step_size,
                                        step_decimals(p.default_step_size), 0.0, p.default_min_notional)
        if reason is not None:
            return {"action": "skip", "symbol": symbol, "side": side, "reason": reason, **sig}
        stop = self.risk.initial_stop(side, price, atr_abs)
        return {"action": "enter", "symbol": symbol, "side": side, "qty": qty, "entry_price": price,
                "stop_price": stop, "risk_amount": qty * abs(price - stop), "notional": qty * price,
                "atr": atr_abs, "signal": side, "ts": sig["ts"], "channel_high": sig["channel_high"],
                "channel_low": sig["channel_low"]}
