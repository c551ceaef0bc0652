"""Scenario tables for an open position: stops, trailing, breakeven, pyramids, exits.

Common prefix: bars 0-2 warm up (channel 99..101, ATR 2), bar 3 breaks out long
(close 102.5, ATR 2.75), bar 4 opens at 102.6 where the entry fills; the initial stop
is 102.6 - 1.2*2.75 = 99.3 and the quantity 75.757 (risk 250 at 3.3).
"""
from __future__ import annotations

import pytest
from msgspec.structs import replace

from conftest_core import FLAT, SCENARIO, SYMBOL, bar_ts, candles, of, run
from journal import events as ev
from machine.params import Params
from machine.sim_venue import SimVenue

ENTERED = [FLAT, FLAT, FLAT, (100.0, 103.0, 99.5, 102.5), (102.6, 104.0, 102.0, 103.0)]
QTY = 75.757


def closed(journal) -> ev.PositionClosed:
    (pc,) = of(journal, ev.PositionClosed)
    return pc


def test_stop_hit_inside_bar_fills_at_stop_and_closes_with_reason_stop():
    _, journal = run(ENTERED + [(103.0, 103.5, 99.0, 99.5)])  # low 99.0 crosses the 99.3 stop
    pc = closed(journal)
    assert (pc.reason, pc.exit_price, pc.entry_price, pc.qty, pc.ts) == ("stop", 99.3, 102.6, QTY, bar_ts(5))
    fees = QTY * 102.6 * 0.0005 + QTY * 99.3 * 0.0005
    assert pc.fees == pytest.approx(fees) and pc.pnl == pytest.approx((99.3 - 102.6) * QTY - fees)


def test_bar_gapping_through_the_stop_fills_at_the_open():
    _, journal = run(ENTERED + [(98.0, 98.5, 97.0, 97.5)])
    assert closed(journal).exit_price == 98.0


def test_trailing_stop_moves_with_price_and_never_loosens():
    params = replace(SCENARIO, atr_trail_k=1.0)
    rows = ENTERED + [
        (104.0, 107.0, 103.5, 106.5),  # ATR 3.1875: trail to 106.5 - 3.1875 -> 103.32
        (106.0, 106.2, 104.0, 104.5),  # trail wants 101.66: looser, so the stop stays at 103.32
        (104.0, 104.2, 103.0, 103.2),  # low 103.0 crosses 103.32: trailed stop fills
    ]
    _, journal = run(rows, params)
    moves = [(m.reason, m.stop_price, m.ts) for m in of(journal, ev.StopMoved)]
    # bar 4 closes at 103 with ATR 2.375: trail 100.625 rounds up to the tick (tighter) 100.63
    assert moves == [("initial", 99.3, bar_ts(4)), ("trail", 100.63, bar_ts(4)), ("trail", 103.32, bar_ts(5))]
    pc = closed(journal)
    assert (pc.reason, pc.exit_price) == ("trail", 103.32)


def test_moved_stop_is_submitted_before_the_old_one_is_canceled():
    _, journal = run(ENTERED + [(104.0, 107.0, 103.5, 106.5)], replace(SCENARIO, atr_trail_k=1.0))
    i = journal.index([m for m in of(journal, ev.StopMoved) if m.reason == "trail"][0])
    new, cancel = journal[i + 1], journal[i + 2]
    assert isinstance(new, ev.OrderSubmitted) and new.purpose == "stop" and new.stop_price == 100.63
    assert isinstance(cancel, ev.OrderCancelRequested) and cancel.reason == "replaced"
    first_stop = [o for o in of(journal, ev.OrderSubmitted) if o.purpose == "stop"][0]
    assert cancel.client_id == first_stop.client_id


def test_breakeven_promotion_moves_stop_to_entry():
    params = replace(SCENARIO, breakeven_atr_k=1.0)
    _, journal = run(ENTERED + [(103.0, 106.0, 102.8, 105.5)], params)  # 105.5 - 102.6 >= 1 * 2.75
    moves = [(m.reason, m.stop_price, m.prev_stop) for m in of(journal, ev.StopMoved)]
    assert moves == [("initial", 99.3, None), ("breakeven", 102.6, 99.3)]


def test_pyramid_adds_fraction_of_initial_qty_at_atr_level_and_rearms_stop():
    params = replace(SCENARIO, enable_pyramiding=True, pyramid_levels=((1.0, 0.5),))
    rows = ENTERED + [(103.0, 106.0, 102.8, 105.5), (105.6, 106.0, 105.0, 105.8)]
    state, journal = run(rows, params)
    (add,) = of(journal, ev.PyramidAdded)
    assert (add.level, add.qty, add.trigger_price, add.ts) == (1, 37.878, 102.6 + 2.75, bar_ts(5))
    pyr_fill = [f for f in of(journal, ev.OrderFilled) if f.purpose == "pyramid"][0]
    assert (pyr_fill.price, pyr_fill.ts) == (105.6, bar_ts(6))
    after = journal[journal.index(pyr_fill) + 1:journal.index(pyr_fill) + 3]
    assert isinstance(after[0], ev.OrderSubmitted) and after[0].qty == pytest.approx(QTY + 37.878)
    assert after[0].stop_price == 99.3 and isinstance(after[1], ev.OrderCancelRequested)
    assert state.sym[SYMBOL].phase == "pyramided"


def test_stop_wins_over_pyramid_add_on_the_same_bar():
    params = replace(SCENARIO, enable_pyramiding=True, pyramid_levels=((1.0, 0.5),))
    _, journal = run(ENTERED + [(103.0, 106.0, 99.0, 105.5)], params)  # low hits stop, close hits trigger
    assert closed(journal).reason == "stop" and not of(journal, ev.PyramidAdded)


def test_exit_then_same_direction_breakout_needs_structural_reset():
    rows = ENTERED + [
        (103.0, 104.6, 99.0, 104.5),  # stopped out at 99.3, then closes above the 104 channel high
        (104.5, 104.8, 103.5, 104.0),  # closes back inside (channel high 104.6): structural reset
        (104.0, 106.0, 103.9, 105.9),  # fresh breakout above 104.8: trades again
    ]
    _, journal = run(rows)
    signals = [(type(s).__name__, getattr(s, "reason", ""), s.ts) for s in of(journal, ev.SignalDetected,
                                                                             ev.SignalFiltered)]
    assert signals == [("SignalDetected", "", bar_ts(3)), ("SignalFiltered", "reentry_blocked", bar_ts(5)),
                       ("SignalDetected", "", bar_ts(7))]
    (reset,) = of(journal, ev.StructuralReset)
    assert (reset.side, reset.ts) == ("long", bar_ts(6))


def test_daily_loss_limit_blocks_entries_until_next_day_anchor():
    params = replace(SCENARIO, daily_loss_limit=0.01)
    quiet = (95.5, 96.0, 95.0, 95.5)
    rows = ENTERED + [(103.0, 103.5, 99.0, 99.5), (99.5, 99.6, 95.0, 95.5)] + [quiet] * 16 + [
        (95.5, 95.6, 90.0, 90.5)]  # bar 23 opens 00:00 UTC next day and breaks out short
    _, journal = run(rows, params)
    anchors = of(journal, ev.DailyAnchorReset)
    # bar 22 closes at 00:00 UTC: its close anchors the new day with the equity at midnight
    assert [(a.day, a.ts) for a in anchors] == [("2024-01-01", bar_ts(0)), ("2024-01-02", bar_ts(22))]
    signals = [(type(s).__name__, getattr(s, "reason", ""), s.side) for s in of(journal, ev.SignalFiltered,
                                                                                ev.SignalDetected)]
    assert signals[1:] == [("SignalFiltered", "daily_loss", "short"), ("SignalDetected", "", "short")]


def test_manual_close_cancels_stop_and_closes_at_market():
    events = candles(ENTERED) + [ev.ManualCloseRequested(ts=bar_ts(5), symbol=SYMBOL)] + candles(
        [(103.0, 104.0, 102.5, 103.5)], start=5)
    state, journal = run(events)
    i = journal.index(of(journal, ev.ManualClose)[0])
    close_order, cancel = journal[i + 1], journal[i + 2]
    assert (close_order.purpose, close_order.order_kind, close_order.reduce_only, close_order.qty) == (
        "manual_close", "market", True, QTY)
    assert isinstance(cancel, ev.OrderCancelRequested) and cancel.reason == "manual_close"
    pc = closed(journal)
    assert (pc.reason, pc.exit_price) == ("manual_close", 103.0)
    assert state.sym[SYMBOL].phase == "flat"


def test_manual_close_while_flat_is_refused_without_halting():
    state, journal = run(candles([FLAT]) + [ev.ManualCloseRequested(ts=bar_ts(1), symbol=SYMBOL)])
    (err,) = of(journal, ev.ErrorRaised)
    assert err.reason == "nothing_to_close" and not of(journal, ev.Halted)
    assert state.sym.get(SYMBOL) is None or state.sym[SYMBOL].phase == "flat"


def test_take_profit_ladder_reduces_then_stop_is_resized():
    params = replace(SCENARIO, tp_levels=((1.0, 0.5),))
    _, journal = run(ENTERED + [(103.0, 106.0, 102.8, 105.5), (105.0, 105.2, 99.0, 99.5)], params)
    tp = [o for o in of(journal, ev.OrderSubmitted) if o.purpose == "take_profit"][0]
    assert (tp.order_kind, tp.stop_price, tp.qty, tp.reduce_only) == ("take_profit_market", 105.9, 37.878, True)
    tp_fill = [f for f in of(journal, ev.OrderFilled) if f.purpose == "take_profit"][0]
    resized = journal[journal.index(tp_fill) + 1]
    assert isinstance(resized, ev.OrderSubmitted) and resized.qty == pytest.approx(QTY - 37.878)
    pc = closed(journal)
    assert pc.reason == "stop" and pc.qty == pytest.approx(QTY)
    assert pc.exit_price == pytest.approx((105.9 * 37.878 + 99.3 * (QTY - 37.878)) / QTY)


def test_rejected_stop_triggers_fallback_stop_then_emergency_close():
    # issue 9: a rejected ATR stop gets a fallback stop; the fallback rejected too runs the policy (flatten)
    params = replace(SCENARIO, emergency_policy="flatten", emergency_min_pnl_to_close_pct=-1.0)
    venue = SimVenue(params)
    venue.reject_purposes = {"stop"}
    _, journal = run(ENTERED + [(103.0, 104.0, 102.5, 103.5)], params, venue=venue)
    fallback, failed, action = of(journal, ev.EmergencyAction)
    assert (fallback.action, fallback.trigger, failed.outcome) == ("fallback_stop", "stop_rejected", "failed")
    assert (action.action, action.trigger) == ("close", "stop_failed")
    assert closed(journal).reason == "emergency"


def test_equity_marked_on_every_bar_with_a_position_and_at_exit():
    _, journal = run(ENTERED + [(103.0, 104.0, 102.5, 103.5), (103.0, 103.5, 99.0, 99.5)])
    marks = of(journal, ev.EquityMarked)
    assert [m.ts for m in marks] == [bar_ts(4), bar_ts(5), bar_ts(6)]
    assert marks[-1].unrealized == 0.0 and marks[-1].equity == pytest.approx(10_000 + closed(journal).pnl)


def test_pyramided_trade_with_a_partial_take_profit_reports_the_vwap_of_its_opening_fills():
    # review finding 2: entry_price was the cost of the lot still held (avg_price) once a take-profit took part off
    params = replace(SCENARIO, enable_pyramiding=True, pyramid_levels=((1.0, 0.5),), tp_levels=((1.0, 0.5),))
    rows = ENTERED + [
        (103.0, 106.0, 102.8, 105.5),  # high 106 reaches the 1R take-profit 105.9 (37.878 off); close 105.5 >= 105.35 adds
        (105.6, 106.0, 105.0, 105.8),  # the pyramid fills at the open 105.6 (37.878): 75.757 held again
        (105.0, 105.2, 99.0, 102.5),  # low 99.0 crosses the 99.3 stop (75.757); close 102.5 stays above the channel
    ]
    _, journal = run(rows, params)
    fills = [(f.purpose, f.qty, f.price) for f in of(journal, ev.OrderFilled)]
    assert fills == [("entry", QTY, 102.6), ("take_profit", 37.878, 105.9), ("pyramid", 37.878, 105.6),
                     ("stop", QTY, 99.3)]
    pc = closed(journal)
    opened = QTY + 37.878  # 113.635
    vwap = (QTY * 102.6 + 37.878 * 105.6) / opened  # 11772.585 / 113.635 = 103.59999...
    held_cost = (102.6 * (QTY - 37.878) + 105.6 * 37.878) / QTY  # 104.0999...: what the row used to say
    assert pc.entry_price == pytest.approx(vwap, rel=1e-15) and pc.entry_price != pytest.approx(held_cost)
    assert pc.qty == pytest.approx(opened, rel=1e-15)
    assert pc.exit_price == pytest.approx((105.9 * 37.878 + 99.3 * QTY) / opened, rel=1e-15)
    fees = 0.0005 * (QTY * 102.6 + 37.878 * 105.9 + 37.878 * 105.6 + QTY * 99.3)  # 11.65326765
    gross = (105.9 - 102.6) * 37.878 + (99.3 - held_cost) * QTY  # 124.9974 - 363.6321: pnl is against avg cost
    assert pc.fees == pytest.approx(fees, rel=1e-12) and pc.pnl == pytest.approx(gross - fees, rel=1e-12)
    assert pc.pnl == pytest.approx(-250.28796765, abs=1e-9)
    assert (pc.exit_price - pc.entry_price) * pc.qty - pc.fees == pytest.approx(pc.pnl, abs=1e-9)  # the row reconciles


def test_a_loss_in_the_days_first_bar_counts_against_the_daily_loss_limit():
    # The anchor is the equity at 00:00 UTC (the close of the bar that ends the previous day), so a gap through
    # the stop in the 00:00 bar leaves the day > 6 % down and that bar's breakout is filtered as daily_loss.
    params = Params(donchian_len=3, atr_len=2, funding_avoid_min=0, enable_pyramiding=False, breakeven_atr_k=0.0,
                    atr_trail_k=50.0, daily_loss_limit=0.06, daily_dd_limit=0.0)
    flat = (100.0, 101.0, 99.0, 100.0)
    rows = [flat] * 20 + [  # bar i opens at (i + 1):00 UTC
        (100.0, 103.0, 100.0, 102.5),  # 21:00 close 102.5 > 101: long planned, stop 99.5
        (102.5, 103.0, 102.0, 102.8),  # 22:00 entry fills at the open 102.5
        (102.8, 103.0, 102.5, 102.9),  # 23:00 closes at 00:00: anchors the new day (equity ~ 10,029)
        (94.0, 94.5, 93.5, 94.0),      # 00:00 gaps through the stop (fill 94, ~7 % of equity); close < channel
    ]
    _, journal = run(rows, params)
    marks = of(journal, ev.EquityMarked)
    anchor = [a for a in of(journal, ev.DailyAnchorReset) if a.ts == bar_ts(22)][0]
    assert anchor.equity == [m for m in marks if m.ts == bar_ts(22)][0].equity
    assert [m for m in marks if m.ts == bar_ts(23)][0].equity <= anchor.equity * 0.94
    signal = [s for s in of(journal, ev.SignalDetected, ev.SignalFiltered) if s.ts == bar_ts(23)]
    assert [(type(s).__name__, s.side, getattr(s, "reason", "")) for s in signal] == [
        ("SignalFiltered", "short", "daily_loss")]
