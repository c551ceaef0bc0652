"""Given/when/then for the decider: idempotent and partial fills, illegal triggers,
the kill switch, client order ids, and replay determinism."""
from __future__ import annotations

import re

import msgspec
import pytest
from msgspec.structs import replace

from conftest_core import FLAT, SCENARIO, SYMBOL, bar_ts, candles, of, run, session
from journal import events as ev
from machine.decider import decide, evolve, initial_state, step
from machine.ids import CLIENT_ID_PATTERN, client_id_prefix
from machine.sim_venue import SimVenue, run_loop
from machine.state import fingerprint

BREAKOUT = [FLAT, FLAT, FLAT, (100.0, 103.0, 99.5, 102.5)]


def entered_order():
    """State right after the entry order was submitted (no venue answers yet)."""
    state = initial_state(SCENARIO)
    for e in [session(), *candles(BREAKOUT)]:
        state, decisions = step(state, e, SCENARIO)
    (order,) = of(decisions, ev.OrderSubmitted)
    return state, order


def fill(order, qty, fill_id, price=102.6, ts=bar_ts(4)):
    return ev.OrderFilled(ts=ts, client_id=order.client_id, symbol=SYMBOL, fill_id=fill_id, side=order.side,
                          qty=qty, price=price, fee=0.0, purpose=order.purpose)


def test_repeated_fill_id_is_ignored():
    state, order = entered_order()
    state, first = step(state, fill(order, order.qty, "f1"), SCENARIO)
    again, decisions = step(state, fill(order, order.qty, "f1"), SCENARIO)
    assert first and decisions == []
    assert again.sym[SYMBOL].pos == state.sym[SYMBOL].pos and again.cash == state.cash


def test_partial_fills_accumulate_and_stop_follows_the_quantity():
    state, order = entered_order()
    half = round(order.qty / 2, 3)
    state, d1 = step(state, fill(order, half, "f1"), SCENARIO)
    stop1 = of(d1, ev.OrderSubmitted)[0]
    assert state.sym[SYMBOL].phase == "long" and stop1.qty == half
    state, d2 = step(state, fill(order, order.qty - half, "f2", price=102.8), SCENARIO)
    assert state.sym[SYMBOL].pos.qty == pytest.approx(order.qty)
    assert state.sym[SYMBOL].pos.avg_price == pytest.approx((102.6 * half + 102.8 * (order.qty - half)) / order.qty)
    new_stop, cancel = d2
    assert new_stop.qty == pytest.approx(order.qty) and cancel.client_id == stop1.client_id
    assert state.sym[SYMBOL].entry_id is None  # entry order complete


def test_fill_for_an_entry_the_symbol_is_not_waiting_for_raises_error_and_halts():
    state = initial_state(SCENARIO)
    for e in [session(), *candles([FLAT])]:
        state, _ = step(state, e, SCENARIO)
    stray = ev.OrderFilled(ts=bar_ts(1), client_id="foreign-1", symbol=SYMBOL, fill_id="x1", side="buy", qty=1.0,
                           price=100.0, purpose="entry")
    state, decisions = step(state, stray, SCENARIO)
    assert [ev.kind_of(d) for d in decisions[:2]] == ["error_raised", "halted"]
    assert decisions[0].reason == "illegal_transition" and "filled_long" in decisions[0].detail
    assert state.sym[SYMBOL].phase == "halted"
    assert any(isinstance(d, ev.OrderSubmitted) and d.purpose == "stop" for d in decisions)  # still protected


def test_error_burst_trips_kill_switch_and_halts_everything():
    params = replace(SCENARIO, kill_switch_max_errors=3, kill_switch_window_sec=60)
    state = initial_state(params)
    outs = []
    for i, reason in enumerate(["auth", "network", "nonce", "auth"]):
        state, d = step(state, ev.ErrorObserved(ts=bar_ts(0) + i * 1000, reason=reason), params)
        outs.append(d)
    assert outs[:3] == [[], [], []]
    trip, halted = outs[3]
    assert isinstance(trip, ev.KillSwitchTripped) and trip.error_reasons == ("auth", "nonce", "auth")
    assert isinstance(halted, ev.Halted) and halted.symbol is None and state.halted_all


def test_errors_spread_beyond_the_window_do_not_trip():
    params = replace(SCENARIO, kill_switch_max_errors=2, kill_switch_window_sec=60)
    state = initial_state(params)
    for i in range(4):
        state, d = step(state, ev.ErrorObserved(ts=bar_ts(0) + i * 61_000, reason="auth"), params)
        assert d == []


def test_client_ids_are_deterministic_unique_and_share_the_first_session_prefix():
    events = [session(run_id="2024-01-01T00:00:00Z#abc"), *candles(BREAKOUT + [(102.6, 104, 102, 103)]),
              session(ts=bar_ts(5), run_id="another-run"), *candles([(103.0, 103.5, 99.0, 99.5)], start=5)]
    params = replace(SCENARIO, atr_trail_k=1.0)
    state, journal = run_loop(initial_state(params), params, events, SimVenue(params))
    ids = [o.client_id for o in of(journal, ev.OrderSubmitted)]
    assert len(ids) == len(set(ids)) >= 3
    prefix = client_id_prefix(state)
    assert prefix == "dj-20240101T000-"
    assert all(i.startswith(prefix) and CLIENT_ID_PATTERN.match(i) for i in ids)
    _, again = run_loop(initial_state(params), params, events, SimVenue(params))
    assert [o.client_id for o in of(again, ev.OrderSubmitted)] == ids


def test_replaying_recorded_inputs_reproduces_every_decision_byte_for_byte():
    rows = BREAKOUT + [(102.6, 104.0, 102.0, 103.0), (104.0, 107.0, 103.5, 106.5), (104.0, 104.2, 99.0, 99.5)]
    _, journal = run(rows, replace(SCENARIO, atr_trail_k=1.0))
    inputs = [e for e in journal if ev.is_input(e)]
    state = initial_state(replace(SCENARIO, atr_trail_k=1.0))
    replayed = []
    for e in inputs:
        replayed.append(e)
        state, decisions = step(state, e, replace(SCENARIO, atr_trail_k=1.0))
        replayed.extend(decisions)
    assert msgspec.msgpack.encode(replayed) == msgspec.msgpack.encode(journal)


def test_decide_is_called_on_the_evolved_state_and_does_not_change_it():
    state = initial_state(SCENARIO)
    for e in [session(), *candles(BREAKOUT[:3])]:
        state, _ = step(state, e, SCENARIO)
    bar = candles(BREAKOUT[3:], start=3)[0]
    after = evolve(state, bar)
    before = fingerprint(after)
    assert decide(after, bar, SCENARIO) == decide(after, bar, SCENARIO)
    assert fingerprint(after) == before


def test_repeated_or_old_candle_is_reported_not_folded():
    state = initial_state(SCENARIO)
    bars = candles([FLAT, FLAT])
    for e in [session(), *bars]:
        state, _ = step(state, e, SCENARIO)
    again, decisions = step(state, bars[0], SCENARIO)
    assert [d.reason for d in decisions] == ["stale_candle"] and again.ind == state.ind


def test_params_survive_the_session_settings_round_trip():
    params = replace(SCENARIO, tp_levels=((1.0, 0.5),))
    encoded = msgspec.json.encode({"params": msgspec.to_builtins(params)})
    assert msgspec.convert(msgspec.json.decode(encoded)["params"], type(params)) == params


def test_halted_position_keeps_its_stop_trailing_and_resumes_to_its_phase():
    # level 1 (0.1 ATR) adds at bar 4, before the halt; level 2 (0.5 ATR) would add at bar 5 if not halted
    params = replace(SCENARIO, atr_trail_k=1.0, enable_pyramiding=True, pyramid_levels=((0.1, 0.5), (0.5, 0.3)))
    events = [*candles(BREAKOUT + [(102.6, 104.0, 102.0, 103.0)]), ev.HaltRequested(ts=bar_ts(5), symbol=SYMBOL),
              *candles([(104.0, 107.0, 103.5, 106.5)], start=5), ev.ResumeRequested(ts=bar_ts(6), symbol=SYMBOL)]
    state, journal = run(events, params)
    after_halt = journal[journal.index(of(journal, ev.Halted)[0]):]
    assert any(isinstance(e, ev.StopMoved) and e.reason == "trail" for e in after_halt)
    assert [p.level for p in of(journal, ev.PyramidAdded)] == [1] and not of(after_halt, ev.PyramidAdded)
    assert state.sym[SYMBOL].phase == "pyramided"  # the level-1 add filled while halted


def test_equity_observed_rebases_the_ledger():
    state = initial_state(SCENARIO)
    state, _ = step(state, ev.EquityObserved(ts=bar_ts(0), equity=12_345.0), SCENARIO)
    from machine.state import equity

    assert equity(state) == 12_345.0


def test_a_wallet_drop_while_flat_latches_the_daily_loss_limit():
    # Live: the venue's wallet is equity too. Fees, funding or a trade by hand can take the day below the
    # limit with no position (so no equity mark): the next breakout must still be filtered as daily_loss.
    params = replace(SCENARIO, daily_loss_limit=0.05, funding_avoid_min=0)
    state = initial_state(params)
    for e in [session(), *candles(BREAKOUT[:3])]:
        state, _ = step(state, e, params)
    assert state.anchor_equity > 0 and not state.daily_loss_hit
    state, _ = step(state, ev.EquityObserved(ts=bar_ts(2) + 1, equity=state.anchor_equity * 0.94), params)
    assert state.daily_loss_hit
    state, decisions = step(state, candles(BREAKOUT[3:], start=3)[0], params)
    assert [(type(d).__name__, getattr(d, "reason", "")) for d in decisions if "Signal" in type(d).__name__] == [
        ("SignalFiltered", "daily_loss")]


def test_late_remainder_of_a_partial_entry_after_the_stop_is_closed_at_once_and_trading_goes_on():
    """The venue fills the rest of a partial entry after the stop took the position (our cancel came
    too late): the core protects that quantity, closes it at market and keeps the symbol trading."""
    state, order = entered_order()
    half = round(order.qty / 2, 3)
    state, d1 = step(state, fill(order, half, "f1"), SCENARIO)
    stop = of(d1, ev.OrderSubmitted)[0]
    stop_fill = ev.OrderFilled(ts=bar_ts(5), client_id=stop.client_id, symbol=SYMBOL, fill_id="s1", side="sell",
                               qty=half, price=stop.stop_price, fee=0.0, purpose="stop")
    state, closed = step(state, stop_fill, SCENARIO)
    assert of(closed, ev.PositionClosed) and state.sym[SYMBOL].phase == "flat"
    state, late = step(state, fill(order, order.qty - half, "f2", price=98.0, ts=bar_ts(6)), SCENARIO)
    kinds = [ev.kind_of(d) for d in late]
    assert "halted" not in kinds
    error = of(late, ev.ErrorRaised)[0]
    assert error.reason == "late_fill" and "f2" in error.detail
    protective, close = of(late, ev.OrderSubmitted)
    assert protective.purpose == "stop" and protective.qty == pytest.approx(order.qty - half)
    assert protective.stop_price < 98.0  # a fresh initial stop below the late fill, not the old trade's level
    assert close.purpose == "emergency" and close.reduce_only and close.qty == pytest.approx(order.qty - half)
    assert of(late, ev.EmergencyAction)[0].trigger == "late_fill"
    assert state.sym[SYMBOL].phase == "exiting"
    close_fill = ev.OrderFilled(ts=bar_ts(6), client_id=close.client_id, symbol=SYMBOL, fill_id="c1", side="sell",
                                qty=close.qty, price=97.9, fee=0.0, purpose="emergency")
    state, done = step(state, close_fill, SCENARIO)
    (trade,) = of(done, ev.PositionClosed)
    assert trade.reason == "emergency" and trade.qty == pytest.approx(order.qty - half)
    assert [c.client_id for c in of(done, ev.OrderCancelRequested)] == [protective.client_id]
    sym = state.sym[SYMBOL]
    assert sym.phase == "flat" and sym.pos is None and not sym.fault and not sym.late_fill


def test_late_fill_while_the_position_is_being_closed_is_closed_too_without_a_halt():
    """A manual close is in flight when the rest of a partial entry fills: the added quantity gets its own
    reduce-only close, the symbol never halts, and both closes leave it flat."""
    state, order = entered_order()
    half = round(order.qty / 2, 3)
    state, _ = step(state, fill(order, half, "f1"), SCENARIO)
    state, manual = step(state, ev.ManualCloseRequested(ts=bar_ts(5), symbol=SYMBOL), SCENARIO)
    (exit_order,) = [d for d in of(manual, ev.OrderSubmitted) if d.purpose == "manual_close"]
    assert order.client_id in [c.client_id for c in of(manual, ev.OrderCancelRequested)]  # the remainder too
    assert state.sym[SYMBOL].phase == "exiting"
    state, late = step(state, fill(order, order.qty - half, "f2", price=101.0, ts=bar_ts(5)), SCENARIO)
    assert "halted" not in [ev.kind_of(d) for d in late] and of(late, ev.ErrorRaised)[0].reason == "late_fill"
    closes = [d for d in of(late, ev.OrderSubmitted) if d.purpose == "emergency"]
    assert [c.qty for c in closes] == [pytest.approx(order.qty - half)]
    assert state.sym[SYMBOL].phase == "exiting" and not state.sym[SYMBOL].fault
    for client_id, qty, fill_id in ((exit_order.client_id, half, "x1"),
                                    (closes[0].client_id, order.qty - half, "x2")):
        state, done = step(state, ev.OrderFilled(ts=bar_ts(6), client_id=client_id, symbol=SYMBOL,
                                                 fill_id=fill_id, side="sell", qty=qty, price=100.5, fee=0.0,
                                                 purpose="manual_close"), SCENARIO)
        assert "halted" not in [ev.kind_of(d) for d in done]
    assert of(done, ev.PositionClosed) and state.sym[SYMBOL].phase == "flat" and state.sym[SYMBOL].pos is None


def test_late_fill_larger_than_an_opposite_position_nets_it_and_closes_the_excess_with_its_own_stop():
    """A long is open when a late short fill larger than it lands (a short entry's remainder, canceled too
    late): like the venue's one-way book it closes the long and opens the excess short, which gets a stop
    above the price (not the old long's stop level) and a reduce-only close."""
    state, order = entered_order()  # a long entry
    state, _ = step(state, fill(order, order.qty, "f1"), SCENARIO)
    long_qty = state.sym[SYMBOL].pos.qty
    stray = ev.OrderFilled(ts=bar_ts(5), client_id=f"{client_id_prefix(state)}E99", symbol=SYMBOL, fill_id="late1",
                           side="sell", qty=round(long_qty * 1.5, 3), price=101.0, fee=0.0, purpose="entry")
    state, late = step(state, stray, SCENARIO)
    (closed,) = of(late, ev.PositionClosed)
    assert closed.reason == "late_fill" and closed.qty == pytest.approx(long_qty)
    assert "halted" not in [ev.kind_of(d) for d in late]
    stop, close = of(late, ev.OrderSubmitted)
    excess = round(long_qty * 1.5, 3) - long_qty
    assert stop.purpose == "stop" and stop.side == "buy" and stop.stop_price > 101.0
    assert close.purpose == "emergency" and close.side == "buy" and close.qty == pytest.approx(excess)
    sym = state.sym[SYMBOL]
    assert sym.phase == "exiting" and sym.pos.side == "short" and sym.pos.qty == pytest.approx(excess)


def test_live_run_ids_give_every_mode_a_48_bit_random_client_id_prefix():
    """Two bots on one account must not share a client-id prefix (reconciliation claims orders by prefix):
    the prefix is the run id's first 12 alphanumerics, so the random part of a live run id comes first."""
    from cli.clock import RandomIds
    from machine.ids import prefix_from_run_id

    for mode in ("live", "paper", "testnet"):
        run_ids = [RandomIds().run_id(mode) for _ in range(200)]
        prefixes = {prefix_from_run_id(run_id) for run_id in run_ids}
        assert len(prefixes) == 200 and all(run_id.endswith(f"-{mode}") for run_id in run_ids)
        assert all(re.fullmatch(r"dj-[0-9a-f]{12}-", prefix) for prefix in prefixes)  # 48 random bits each
