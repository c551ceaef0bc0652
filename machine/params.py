"""Every strategy and risk knob of the core, as one frozen, msgspec-encodable value.

`Params` travels into `SessionStarted.settings` so a journal records the exact rules
it was decided under; `journal replay --config` swaps it for a what-if. Defaults are
the seed's config.json values. Validation of user input happens in `cli.config`;
`Params.__post_init__` only guards invariants the core relies on.
"""
from __future__ import annotations

import msgspec

_TIMEFRAME_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def timeframe_ms(timeframe: str) -> int:
    """'1h' -> 3_600_000. Raises ValueError for an unknown unit or a non-positive count."""
    unit = timeframe[-1:]
    count = timeframe[:-1]
    if unit not in _TIMEFRAME_UNITS_MS or not count.isdigit() or int(count) <= 0:
        raise ValueError(f"timeframe {timeframe!r}: expected <positive int><m|h|d|w>, e.g. 1h")
    return int(count) * _TIMEFRAME_UNITS_MS[unit]


class PositionCap(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Notional cap: notional <= clamp(multiple * equity, min, max)."""

    multiple: float = 2.0
    min: float = 10_000.0
    max: float = 25_000.0


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Strategy + risk rules. Field docs live in README "Strategy semantics and config keys"."""

    # signal
    donchian_len: int = 20
    atr_len: int = 14
    timeframe: str = "1h"
    # stops
    atr_stop_k: float = 1.2
    atr_trail_k: float = 2.5
    breakeven_atr_k: float = 1.0  # promote the stop to entry once close moved this many entry-ATRs
    breakeven_offset_atr: float = 0.0  # promoted stop = entry +/- offset * entry ATR
    # sizing
    risk_pct: float = 0.025
    leverage: float = 10.0
    position_cap: PositionCap = PositionCap()
    # pyramiding / take profit: (ATR multiple from entry | R multiple, fraction of the initial qty)
    enable_pyramiding: bool = True
    pyramid_levels: tuple[tuple[float, float], ...] = ((2.0, 0.3), (3.0, 0.2))
    tp_levels: tuple[tuple[float, float], ...] = ()
    # filters
    daily_loss_limit: float = 0.06
    funding_avoid_min: int = 5
    funding_interval_h: int = 8  # funding at 00/08/16 UTC
    # execution model (backtest/paper) and accounting
    fee_rate: float = 0.0005
    slippage_bps: float = 0.0
    initial_equity: float = 10_000.0
    # venue defaults used until a MarketLoaded arrives for the symbol
    default_tick_size: float = 0.01
    default_step_size: float = 0.001
    default_min_notional: float = 5.0
    # kill switch: >= max_errors ErrorObserved with a listed reason within window_sec -> halt all
    kill_switch_enabled: bool = True
    kill_switch_max_errors: int = 5
    kill_switch_window_sec: int = 300
    kill_switch_reasons: tuple[str, ...] = ("auth", "nonce", "time_drift")
    # emergency policies (runbook; machine/emergency.py): protect_only keeps stops and blocks entries,
    # flatten closes positions whose unrealized pnl% >= emergency_min_pnl_to_close_pct
    emergency_policy: str = "protect_only"
    emergency_min_pnl_to_close_pct: float = 0.0
    emergency_stop_fallback_pct: float = 0.015  # fallback stop distance from the last price
    daily_dd_limit: float = 0.06  # equity below the UTC-day anchor by this fraction triggers the policy
    auto_testnet_on_dd: bool = False  # the daily-drawdown policy also asks the shell to switch to testnet

    def __post_init__(self) -> None:
        if self.donchian_len < 1 or self.atr_len < 1:
            raise ValueError("donchian_len and atr_len must be >= 1")
        timeframe_ms(self.timeframe)

    @property
    def bar_ms(self) -> int:
        return timeframe_ms(self.timeframe)


DEFAULT_PARAMS = Params()
