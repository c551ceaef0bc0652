"""Scenario tables for signals, filters and entries (one rule per test).

Rows are (open, high, low, close) hourly bars from 2024-01-01 01:00 UTC with
donchian_len=3, atr_len=2: bars 0-2 warm up, bar 3 is the first that can break out.
"""
from __future__ import annotations

import pytest
from msgspec.structs import replace

from conftest_core import FLAT, SCENARIO, SYMBOL, bar_ts, candles, of, run
from journal import events as ev

BREAKOUT_UP = (100.0, 103.0, 99.5, 102.5)  # close 102.5 > channel high 101; TR 3.5 -> ATR (2+3.5)/2 = 2.75
BREAKOUT_DOWN = (100.0, 100.5, 97.0, 97.5)  # close 97.5 < channel low 99; TR 3.5 -> ATR 2.75


def test_close_above_upper_channel_signals_long():
    _, journal = run([FLAT, FLAT, FLAT, BREAKOUT_UP])
    (sig,) = of(journal, ev.SignalDetected)
    assert (sig.side, sig.ts, sig.close, sig.channel_high, sig.channel_low) == ("long", bar_ts(3), 102.5, 101.0, 99.0)
    assert sig.atr == pytest.approx(2.75, rel=1e-12)
    (plan,) = of(journal, ev.EntryPlanned)
    assert plan.ts == bar_ts(3) and plan.stop_price == 99.2  # 102.5 - 1.2 * 2.75
    (order,) = of(journal, ev.OrderSubmitted)
    assert (order.order_kind, order.purpose, order.side, order.qty) == ("market", "entry", "buy", plan.qty)


def test_close_below_lower_channel_signals_short():
    _, journal = run([FLAT, FLAT, FLAT, BREAKOUT_DOWN])
    (sig,) = of(journal, ev.SignalDetected)
    assert sig.side == "short" and sig.close == 97.5
    (plan,) = of(journal, ev.EntryPlanned)
    assert plan.stop_price == 100.8  # 97.5 + 1.2 * 2.75
    assert of(journal, ev.OrderSubmitted)[0].side == "sell"


def test_close_equal_to_channel_high_is_not_a_breakout():
    _, journal = run([FLAT, FLAT, FLAT, (100.0, 101.0, 99.5, 101.0)])
    assert not of(journal, ev.SignalDetected, ev.SignalFiltered)


def test_no_signal_before_the_channel_has_donchian_len_bars():
    _, journal = run([FLAT, FLAT, BREAKOUT_UP])  # bar 2 breaks out but only 2 bars precede it
    assert not of(journal, ev.SignalDetected, ev.SignalFiltered)


def test_entry_fills_at_next_bar_open_never_the_signal_bar():
    _, journal = run([FLAT, FLAT, FLAT, BREAKOUT_UP, (102.6, 104.0, 102.0, 103.0)])
    (fill,) = of(journal, ev.OrderFilled)
    assert (fill.ts, fill.price, fill.purpose) == (bar_ts(4), 102.6, "entry")
    assert fill.fee == pytest.approx(fill.qty * 102.6 * SCENARIO.fee_rate)


def test_entry_fill_places_initial_stop_at_fill_minus_k_atr_then_stop_order():
    _, journal = run([FLAT, FLAT, FLAT, BREAKOUT_UP, (102.6, 104.0, 102.0, 103.0)])
    after_fill = journal[journal.index(of(journal, ev.OrderFilled)[0]) + 1:]
    moved, stop = after_fill[0], after_fill[1]
    assert isinstance(moved, ev.StopMoved) and (moved.reason, moved.stop_price) == ("initial", 99.3)
    assert isinstance(stop, ev.OrderSubmitted)
    assert (stop.order_kind, stop.purpose, stop.reduce_only, stop.stop_price, stop.side) == (
        "stop_market", "stop", True, 99.3, "sell")
    assert stop.qty == of(journal, ev.OrderFilled)[0].qty


def test_size_risks_risk_pct_of_equity_at_the_stop():
    params = replace(SCENARIO, position_cap=replace(SCENARIO.position_cap, max=1e9, min=1e9), leverage=100)
    _, journal = run([FLAT, FLAT, FLAT, BREAKOUT_UP], params)
    (plan,) = of(journal, ev.EntryPlanned)
    # 10_000 * 0.025 / (1.2 * 2.75) = 75.757.. -> step 0.001 rounds down
    assert plan.qty == 75.757
    assert plan.risk_amount <= plan.equity * params.risk_pct


def test_position_cap_limits_notional():
    _, journal = run([FLAT, FLAT, FLAT, BREAKOUT_UP], replace(SCENARIO, risk_pct=0.2))  # risk size 606 units
    (plan,) = of(journal, ev.EntryPlanned)
    cap = min(max(2.0 * 10_000, 10_000), 25_000)
    assert plan.notional <= cap and plan.qty == 195.121  # 20_000 / 102.5 rounded down


def test_market_step_and_min_notional_come_from_market_loaded():
    market = ev.MarketLoaded(ts=bar_ts(0), symbol=SYMBOL, tick_size=0.5, step_size=1.0, min_notional=5.0)
    _, journal = run([market, *candles([FLAT, FLAT, FLAT, BREAKOUT_UP])])
    (plan,) = of(journal, ev.EntryPlanned)
    assert plan.qty == 75.0 and plan.stop_price == 99.5  # 99.2 rounded up to the 0.5 tick (tighter)


def test_signal_below_min_notional_is_filtered():
    market = ev.MarketLoaded(ts=bar_ts(0), symbol=SYMBOL, tick_size=0.01, step_size=0.001, min_notional=1e9)
    _, journal = run([market, *candles([FLAT, FLAT, FLAT, BREAKOUT_UP])])
    (filtered,) = of(journal, ev.SignalFiltered)
    assert filtered.reason == "min_notional" and not of(journal, ev.EntryPlanned, ev.OrderSubmitted)


def test_cap_that_pushes_size_below_minimum_is_filtered_as_cap():
    params = replace(SCENARIO, position_cap=replace(SCENARIO.position_cap, multiple=0.0001, min=1.0, max=1.0))
    market = ev.MarketLoaded(ts=bar_ts(0), symbol=SYMBOL, tick_size=0.01, step_size=0.001, min_notional=5.0)
    _, journal = run([market, *candles([FLAT, FLAT, FLAT, BREAKOUT_UP])], params)
    assert [f.reason for f in of(journal, ev.SignalFiltered)] == ["cap"]


def test_funding_window_filters_entries_near_funding_time():
    params = replace(SCENARIO, funding_avoid_min=5)
    # bars start 04:00 so bar 3 (07:00) closes at 08:00, a funding time
    _, journal = run(candles([FLAT, FLAT, FLAT, BREAKOUT_UP], t0=bar_ts(3)), params)
    (filtered,) = of(journal, ev.SignalFiltered)
    assert filtered.reason == "funding_window" and not of(journal, ev.OrderSubmitted)


def test_funding_window_does_not_filter_away_from_funding():
    params = replace(SCENARIO, funding_avoid_min=5)
    _, journal = run([FLAT, FLAT, FLAT, BREAKOUT_UP], params)  # bar 3 closes at 05:00
    assert len(of(journal, ev.SignalDetected)) == 1


def test_protect_only_filters_signals():
    events = [ev.ProtectOnlyRequested(ts=bar_ts(0))] + candles([FLAT, FLAT, FLAT, BREAKOUT_UP])
    _, journal = run(events)
    (action,) = of(journal, ev.EmergencyAction)
    assert (action.policy, action.action) == ("protect_only", "block_entries")
    assert [f.reason for f in of(journal, ev.SignalFiltered)] == ["protect_only"]


def test_halted_symbol_makes_no_entries_until_resumed():
    bars = candles([FLAT, FLAT, FLAT, BREAKOUT_UP, FLAT, FLAT, FLAT, BREAKOUT_UP])
    events = [ev.HaltRequested(ts=bar_ts(0), symbol=SYMBOL), *bars[:5],
              ev.ResumeRequested(ts=bar_ts(5), symbol=SYMBOL), *bars[5:]]
    state, journal = run(events)
    assert [type(e).__name__ for e in of(journal, ev.Halted, ev.Resumed)] == ["Halted", "Resumed"]
    signals = of(journal, ev.SignalDetected, ev.SignalFiltered)
    assert [(type(s).__name__, s.ts) for s in signals] == [("SignalFiltered", bar_ts(3)), ("SignalDetected", bar_ts(7))]
    assert signals[0].reason == "halted"


def test_global_halt_blocks_every_symbol():
    events = [ev.HaltRequested(ts=bar_ts(0))] + candles([FLAT, FLAT, FLAT, BREAKOUT_UP])
    _, journal = run(events)
    assert [f.reason for f in of(journal, ev.SignalFiltered)] == ["halted"]


def test_entry_rejected_returns_symbol_to_flat_and_next_breakout_trades():
    from machine.sim_venue import SimVenue

    venue = SimVenue(SCENARIO)
    venue.reject_purposes = {"entry"}
    state, journal = run([FLAT, FLAT, FLAT, BREAKOUT_UP], venue=venue)
    assert of(journal, ev.OrderRejected) and state.sym[SYMBOL].phase == "flat"
    assert state.sym[SYMBOL].entry_id is None


def test_operator_daily_anchor_reset_lifts_the_daily_loss_block():
    params = replace(SCENARIO, daily_loss_limit=0.01)
    stop_out = candles([FLAT, FLAT, FLAT, (100.0, 103.0, 99.5, 102.5), (102.6, 104.0, 102.0, 103.0),
                        (103.0, 103.5, 99.0, 99.5)])
    later = candles([(99.5, 99.6, 95.0, 95.5), (95.5, 95.6, 90.0, 90.5)], start=6)
    _, journal = run([*stop_out, later[0], ev.DailyAnchorResetRequested(ts=bar_ts(7)), later[1]], params)
    anchors = of(journal, ev.DailyAnchorReset)
    assert len(anchors) == 2 and anchors[1].ts == bar_ts(7) and anchors[1].day == "2024-01-01"
    signals = [(type(s).__name__, getattr(s, "reason", "")) for s in of(journal, ev.SignalFiltered,
                                                                        ev.SignalDetected)]
    assert signals[1:] == [("SignalFiltered", "daily_loss"), ("SignalDetected", "")]
