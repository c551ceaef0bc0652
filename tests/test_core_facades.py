"""The seed API (DonchianATREngine, RiskManager) plans exactly what the journaled bot decided."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest_core import session
from journal import events as ev
from machine.decider import initial_state
from machine.engine import DonchianATREngine
from machine.params import Params
from machine.risk_manager import RiskManager
from machine.sim_venue import SimVenue, run_loop

DATA = Path(__file__).parent / "data" / "ohlcv" / "1h" / "BTC_USDT.csv"


@pytest.fixture(scope="module")
def journaled():
    df = pd.read_csv(DATA)
    params = Params()
    bars = [ev.CandleClosed(ts=int(r.timestamp), symbol="BTC/USDT", timeframe="1h", open=r.open, high=r.high,
                            low=r.low, close=r.close, volume=r.volume) for r in df.itertuples(index=False)]
    _, journal = run_loop(initial_state(params), params, [session(bars[0].ts), *bars], SimVenue(params))
    return df, params, journal


def test_engine_entry_plans_match_the_decider(journaled):
    df, params, journal = journaled
    engine = DonchianATREngine(persist_state=False, initial_state={}, params=params)
    pos = {ts: i for i, ts in enumerate(df.timestamp)}
    events = [e for e in journal if isinstance(e, (ev.EntryPlanned, ev.SignalFiltered))]
    assert sum(isinstance(e, ev.EntryPlanned) for e in events) >= 5
    for e in events:
        frame = df.iloc[:pos[e.ts] + 1]
        sig = engine.detect_signal(frame)
        assert (sig["signal"], sig["close"], sig["atr"]) == (e.side, e.close if hasattr(e, "close") else e.ref_price,
                                                             e.atr)
        flags = dict(can_reenter=True, funding_avoid=False, daily_loss_hit=False)
        if isinstance(e, ev.SignalFiltered):
            key = {"reentry_blocked": "can_reenter", "funding_window": "funding_avoid",
                   "daily_loss": "daily_loss_hit"}.get(e.reason)
            if key is None:
                continue
            flags[key] = key != "can_reenter"
            plan = engine.make_entry_plan("BTC/USDT", frame, 10_000.0, e.close, e.atr, True, **flags)
            assert (plan["action"], plan["reason"]) == ("skip", e.reason)
        else:
            plan = engine.make_entry_plan("BTC/USDT", frame, e.equity, e.ref_price, e.atr, True, **flags)
            assert plan["action"] == "enter"
            assert (plan["qty"], plan["stop_price"], plan["side"]) == (e.qty, e.stop_price, e.side)


def test_the_seed_atr_helper_gives_the_decisions_atr(journaled):
    # The seed's example: `atr_abs = float(atr(df, 14))` then make_entry_plan(..., atr_abs, ...).
    from machine.indicators import atr

    df, _, journal = journaled
    pos = {ts: i for i, ts in enumerate(df.timestamp)}
    plans = [e for e in journal if isinstance(e, ev.EntryPlanned)]
    assert plans and all(float(atr(df.iloc[:pos[e.ts] + 1], 14)) == e.atr for e in plans)
    assert atr(df.iloc[:14], 14) != atr(df.iloc[:14], 14)  # NaN before 14 true ranges exist


def test_risk_manager_sizing_and_trailing_match_core_rules():
    rm = RiskManager(params=Params())
    # risk 250 at 1.2 * 2.75 -> 75.757 (below the 20k cap)
    assert rm.calc_qty_by_risk(10_000, 102.5, 2.75, 10) == 75.757
    assert rm.calc_qty_by_risk_adjusted(10_000, 102.5, 2.75, 10, risk_pct=0.01) == 30.303
    assert rm.calc_qty_by_risk(10_000, 102.5, 0.5, 1) == 97.56  # risk size 416; leverage 1: notional <= 10_000
    assert rm.trail_stop_price("long", 100.0, 110.0, 2.0, False) == 105.0
    assert rm.trail_stop_price("short", 100.0, 90.0, 2.0, False) == 95.0
    assert rm.trail_stop_price("long", 100.0, 101.0, 2.0, True) == 100.0  # breakeven floor


def test_risk_manager_state_flow_never_loosens_and_pyramids_once_per_level():
    rm = RiskManager(params=Params())
    rm.update_symbol_state_on_entry("BTC/USDT", "long", 100.0, qty=10.0)
    first = rm.update_after_move("BTC/USDT", 2.0, 100.0)
    assert first["stop"] == 97.6  # initial: 100 - 1.2 * 2
    up = rm.update_after_move("BTC/USDT", 2.0, 104.5, equity=10_000)  # +2.25 ATR: level 1 (2.0 ATR) adds 0.3 * 10
    assert up["be_promoted"] and up["stop"] == 100.0 and up["pyramid_qty"] == 3.0
    down = rm.update_after_move("BTC/USDT", 2.0, 101.0)
    assert down["stop"] == 100.0 and not down["moved"] and down["pyramid_qty"] == 0.0
    assert rm.update_after_move("ETH/USDT", 1.0, 1.0) is None


def test_risk_manager_pyramid_adds_stay_within_the_position_cap_as_the_bot_does():
    # Entry 199.004 @ 100.5 is already at the 20k cap of 10k equity: the bot adds only what the cap leaves
    # (machine.risk.pyramid_add), not 0.3 of the initial size; with no equity known at all, nothing is added.
    rm = RiskManager(params=Params())
    rm.update_symbol_state_on_entry("BTC/USDT", "long", 100.5, qty=199.004)
    rm.update_after_move("BTC/USDT", 1.0, 100.5)
    assert rm.update_after_move("BTC/USDT", 1.0, 102.6)["pyramid_qty"] == 0.0  # no equity, no anchor
    up = rm.update_after_move("BTC/USDT", 1.0, 102.6, equity=10_250.0)
    assert up["pyramid_qty"] == 0.801  # 20,500 / 102.6 - 199.004 = 0.8010 -> the cap's room, floored
    assert (199.004 + up["pyramid_qty"]) * 102.6 <= 20_500 + 1e-6
    rm.reset_daily_anchor(10_250.0)
    assert rm.update_after_move("BTC/USDT", 1.0, 103.6)["pyramid_qty"] == 0.0  # level 2 (3 ATR): no room left


def test_breakeven_offset_is_in_entry_atrs_for_the_bot_and_the_facade():
    rm = RiskManager(params=Params(breakeven_offset_atr=0.5))
    rm.update_symbol_state_on_entry("BTC/USDT", "long", 100.0, qty=1.0)
    rm.update_after_move("BTC/USDT", 2.0, 100.0)  # entry ATR 2.0
    moved = rm.update_after_move("BTC/USDT", 4.0, 102.5)  # breakeven reached; the bar's ATR is 4.0
    assert moved["be_promoted"] and moved["stop"] == 101.0  # entry + 0.5 * entry ATR (not 0.5 * 4.0)


def test_daily_anchor_and_loss_limit():
    rm = RiskManager(params=Params(daily_loss_limit=0.06))
    assert rm.reset_daily_anchor(10_000, day="2024-01-01") is True
    assert rm.reset_daily_anchor(9_000, day="2024-01-01") is False
    assert not rm.hit_daily_loss_limit(9_401) and rm.hit_daily_loss_limit(9_400)


def test_structural_reset_helpers():
    rm = RiskManager()
    rm.note_exit("BTC/USDT", "long")
    assert not rm.can_reenter("BTC/USDT", "long") and rm.can_reenter("BTC/USDT", "short")
    assert rm.check_structural_reset("BTC/USDT", 105.0, 104.0, 99.0) == []
    assert rm.check_structural_reset("BTC/USDT", 103.0, 104.0, 99.0) == ["long"]
    assert rm.can_reenter("BTC/USDT", "long")


def test_the_seed_api_takes_numpy_scalars_as_it_takes_python_numbers(journaled):
    """Values read from a DataFrame are numpy scalars; the compiled core's typed functions must give the
    facades' callers the same answers for them (a numpy int is not an `int` to compiled code)."""
    import numpy as np

    rm = RiskManager(params=Params())
    assert rm.calc_qty_by_risk(np.int64(10_000), np.float32(102.5), np.float64(2.75), np.int64(10)) == \
        rm.calc_qty_by_risk(10_000, 102.5, float(np.float32(2.75)), 10)
    assert rm.trail_stop_price("long", np.float64(100.0), np.int64(110), np.float32(2.0), np.bool_(False)) == 105.0
    rm.update_symbol_state_on_entry("BTC/USDT", "long", np.float64(100.0), qty=np.float64(10.0))
    assert rm.update_after_move("BTC/USDT", np.float64(2.0), np.int64(100))["stop"] == 97.6
    assert rm.hit_daily_loss_limit(np.float64(1.0)) is False  # no anchor yet
    df, params, _ = journaled
    engine = DonchianATREngine(persist_state=False, initial_state={}, params=params)
    frame = df.astype({"high": np.float32, "low": np.float32, "close": np.float32, "timestamp": np.int64})
    narrow, wide = engine.detect_signal(frame), engine.detect_signal(df)
    assert narrow["ts"] == wide["ts"] and narrow["atr"] == pytest.approx(wide["atr"], rel=1e-5)
    plan = engine.make_entry_plan("BTC/USDT", df, np.float64(10_000), np.float64(df.close.iloc[-1]),
                                  np.float64(500.0), np.bool_(True), np.bool_(True), np.bool_(False),
                                  np.bool_(False))
    assert plan == engine.make_entry_plan("BTC/USDT", df, 10_000.0, float(df.close.iloc[-1]), 500.0, True, True,
                                          False, False)


def test_the_seed_atr_and_indicator_series_take_numpy_int_lengths():
    import numpy as np

    from machine.indicators import atr, indicator_series

    df = pd.read_csv(DATA)
    assert atr(df, np.int64(14)) == atr(df, 14)
    series = (df.timestamp, df.high, df.low, df.close)
    assert repr(indicator_series(*series, np.int64(20), np.int32(14))) == repr(indicator_series(*series, 20, 14))
