"""The config.json schema: every seed key, the feature flags and the core's knobs, flat.

msgspec checks types and unknown keys; `range_problems` checks values. Secrets
(`binance_key`, `binance_secret`, `slack_webhook_url`) are masked in `repr` and left
out of `public_settings()` and the config digest, so they never reach the journal.
"""
from __future__ import annotations

import hashlib
from typing import Any, Literal

import msgspec

from machine.params import Params, PositionCap, timeframe_ms

SECRET_KEYS = ("binance_key", "binance_secret", "slack_webhook_url", "mcp_control_token")
PARAM_KEYS = tuple(Params.__struct_fields__)


class ObservabilityConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The `OBSERVABILITY` config dict: the alert scheduler's knobs (every one has the seed's default)."""

    alert_cooldown_sec: float = 600.0
    heartbeat_interval_sec: float = 12 * 3600.0
    heartbeat_missing_sec: float = 18 * 3600.0
    drift_threshold_ms: float = 5000.0
    drift_sustain_sec: float = 180.0
    error_burst_count: int = 10
    error_burst_window_sec: float = 300.0
    no_trade_signal_count: int = 5
    no_trade_window_sec: float = 7200.0
    daily_report_enabled: bool = False
    dedupe_store: str = "data/alert_dedupe.json"
    scheduler_interval_sec: float = 30.0


def observability_of(config: "BotConfig") -> ObservabilityConfig:
    """The alert knobs a run uses: the top-level seed keys `alert_cooldown_sec` and `daily_report_enabled`,
    overridden by whatever `OBSERVABILITY` sets."""
    raw = {"alert_cooldown_sec": config.alert_cooldown_sec, "daily_report_enabled": config.daily_report_enabled,
           **config.observability}
    return msgspec.convert(raw, ObservabilityConfig)


class BotConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # exchange and account (secrets first)
    binance_key: str = ""
    binance_secret: str = ""
    slack_webhook_url: str = ""
    mcp_control_token: str = ""  # `bot mcp` controls (env MCP_CONTROL_TOKEN); read by that command only
    binance_base_url: str = ""
    testnet: bool = True
    quote: str = "USDT"
    universe: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    # runtime
    poll_sec: float = 30.0
    lookback: int = 400
    state_file: str = "state.json"
    data_dir: str = "data"
    log_level: str = "INFO"
    metrics_port: int = 9108
    alert_cooldown_sec: int = 600
    # feature flags
    safe_restart: bool = True
    safe_console_banner: bool = False
    daily_report_enabled: bool = False
    # emergency policies (runbook)
    emergency_policy: Literal["protect_only", "flatten"] = "protect_only"
    emergency_min_pnl_to_close_pct: float = 0.0
    emergency_stop_fallback_pct: float = 0.015
    auto_testnet_on_dd: bool = False
    daily_dd_limit: float = 0.06
    # the core's rules (machine.params.Params), same names and defaults
    donchian_len: int = 20
    atr_len: int = 14
    timeframe: str = "1h"
    atr_stop_k: float = 1.2
    atr_trail_k: float = 2.5
    breakeven_atr_k: float = 1.0
    breakeven_offset_atr: float = 0.0
    risk_pct: float = 0.025
    leverage: float = 10.0
    position_cap: PositionCap = PositionCap()
    enable_pyramiding: bool = True
    pyramid_levels: tuple[tuple[float, float], ...] = ((2.0, 0.3), (3.0, 0.2))
    tp_levels: tuple[tuple[float, float], ...] = ()
    daily_loss_limit: float = 0.06
    funding_avoid_min: int = 5
    funding_interval_h: int = 8
    fee_rate: float = 0.0005
    slippage_bps: float = 0.0
    initial_equity: float = 10_000.0
    default_tick_size: float = 0.01
    default_step_size: float = 0.001
    default_min_notional: float = 5.0
    kill_switch_enabled: bool = True
    kill_switch_max_errors: int = 5
    kill_switch_window_sec: int = 300
    kill_switch_reasons: tuple[str, ...] = ("auth", "nonce", "time_drift")
    kill_switch_max_drift_ms: int = 1000  # the adapter's time_drift alarm (Binance refuses timestamps > 1 s ahead)
    # the seed's OBSERVABILITY dict (alert knobs, `cli.alert_scheduler.ObservabilityConfig`), checked key by key
    observability: dict[str, Any] = {}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.public_settings().items())
        return f"BotConfig({shown}, secrets=<masked>)"

    __str__ = __repr__

    @property
    def params(self) -> Params:
        return Params(**{k: getattr(self, k) for k in PARAM_KEYS})

    def public_settings(self) -> dict[str, Any]:
        """Every non-secret key (what may enter the journal, logs and reports)."""
        data = msgspec.to_builtins(self)
        if not data.get("observability"):
            del data["observability"]  # unset: configs from before the key keep their digest
        return {k: v for k, v in data.items() if k not in SECRET_KEYS}

    def digest(self) -> str:
        return hashlib.sha256(msgspec.json.encode(self.public_settings(), order="sorted")).hexdigest()[:16]


def _ladder_problem(key: str, levels: tuple[tuple[float, float], ...], first: str) -> str | None:
    for i, (mult, frac) in enumerate(levels):
        if not mult > 0 or not 0 < frac <= 1:
            return f"{key}[{i}]: expected [{first} > 0, fraction in (0, 1]], got [{mult}, {frac}]"
    return None


def range_problems(c: BotConfig) -> list[str]:
    """One line per out-of-range value, naming the key and what was expected."""
    checks = [
        ("risk_pct", 0 < c.risk_pct <= 0.5, "a fraction in (0, 0.5]"),
        ("leverage", 1 <= c.leverage <= 125, "between 1 and 125"),
        ("donchian_len", c.donchian_len >= 1, "an integer >= 1"),
        ("atr_len", c.atr_len >= 1, "an integer >= 1"),
        ("atr_stop_k", c.atr_stop_k > 0, "> 0"),
        ("atr_trail_k", c.atr_trail_k > 0, "> 0"),
        ("breakeven_atr_k", c.breakeven_atr_k >= 0, ">= 0 (0 disables breakeven)"),
        ("daily_loss_limit", 0 <= c.daily_loss_limit < 1, "a fraction in [0, 1)"),
        ("daily_dd_limit", 0 <= c.daily_dd_limit < 1, "a fraction in [0, 1)"),
        ("funding_avoid_min", 0 <= c.funding_avoid_min <= 240, "minutes in [0, 240]"),
        ("funding_interval_h", c.funding_interval_h in (1, 2, 4, 8), "one of 1, 2, 4, 8"),
        ("poll_sec", c.poll_sec > 0, "> 0"),
        ("lookback", c.lookback > max(c.donchian_len, c.atr_len), "more bars than donchian_len and atr_len"),
        ("fee_rate", 0 <= c.fee_rate <= 0.01, "a fraction in [0, 0.01]"),
        ("slippage_bps", 0 <= c.slippage_bps <= 1000, "basis points in [0, 1000]"),
        ("initial_equity", c.initial_equity > 0, "> 0"),
        ("position_cap", 0 < c.position_cap.multiple and 0 <= c.position_cap.min <= c.position_cap.max,
         "multiple > 0 and 0 <= min <= max"),
        ("emergency_stop_fallback_pct", 0 < c.emergency_stop_fallback_pct < 1, "a fraction in (0, 1)"),
        ("kill_switch_max_errors", c.kill_switch_max_errors >= 1, "an integer >= 1"),
        ("kill_switch_window_sec", c.kill_switch_window_sec >= 1, "seconds >= 1"),
        ("kill_switch_max_drift_ms", c.kill_switch_max_drift_ms >= 1, "milliseconds >= 1"),
        ("emergency_min_pnl_to_close_pct", -1 < c.emergency_min_pnl_to_close_pct < 1, "a fraction in (-1, 1)"),
        ("metrics_port", 0 <= c.metrics_port <= 65535, "a TCP port"),
        ("log_level", c.log_level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
         "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("default_tick_size", c.default_tick_size > 0, "> 0"),
        ("default_step_size", c.default_step_size > 0, "> 0"),
        ("universe", all(s.count("/") == 1 and s.endswith("/" + c.quote) for s in c.universe) and c.universe,
         f"a non-empty list of BASE/{c.quote} symbols"),
    ]
    problems = [f"{key}: expected {what}, got {getattr(c, key)!r}" for key, ok, what in checks if not ok]
    try:
        timeframe_ms(c.timeframe)
    except ValueError:
        problems.append(f"timeframe: expected <n><m|h|d|w> like 1h, got {c.timeframe!r}")
    for key, levels, first in (("pyramid_levels", c.pyramid_levels, "ATR multiple"),
                               ("tp_levels", c.tp_levels, "R multiple")):
        problem = _ladder_problem(key, levels, first)
        if problem:
            problems.append(problem)
    if sum(f for _, f in c.tp_levels) > 1 + 1e-9:
        problems.append(f"tp_levels: expected fractions summing to <= 1, got {sum(f for _, f in c.tp_levels)}")
    try:
        knobs = observability_of(c)
    except msgspec.ValidationError as exc:
        problems.append(f"OBSERVABILITY: {_knob_problem(str(exc))}")
    else:
        for key in ("heartbeat_interval_sec", "heartbeat_missing_sec", "scheduler_interval_sec", "error_burst_count",
                    "no_trade_signal_count"):
            if not getattr(knobs, key) > 0:
                problems.append(f"OBSERVABILITY.{key}: expected > 0, got {getattr(knobs, key)!r}")
    return problems


def _knob_problem(message: str) -> str:
    """msgspec's message about one OBSERVABILITY key, as 'unknown key x' / 'key x: expected float, got str'."""
    if message.startswith("Object contains unknown field"):
        return f"unknown key {message.split('`')[1]!r}"
    what, _, path = message.partition(" - at `$.")
    if path:
        return f"key {path.rstrip('`')}: {what.replace('`', '').replace('Expected', 'expected')}"
    return message
