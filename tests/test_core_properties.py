"""Hypothesis invariants of the decision core over random candle streams."""
from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest_core import H, SYMBOL, T0, session
from journal import events as ev
from machine.decider import initial_state
from machine.params import Params, PositionCap
from machine.risk import notional_cap
from machine.sim_venue import SimVenue, run_loop

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def candle_streams(draw):
    moves = draw(st.lists(st.tuples(st.floats(-3, 3), st.floats(0, 2), st.floats(0, 2), st.floats(-1.5, 1.5)),
                          min_size=20, max_size=90))
    bars, prev = [], 100.0
    for i, (move, up, down, gap) in enumerate(moves):
        o = round(max(5.0, prev + gap), 2)
        c = round(max(5.0, o + move), 2)
        h = round(max(o, c) + up, 2)
        lo = round(max(1.0, min(o, c) - down), 2)
        bars.append(ev.CandleClosed(ts=T0 + i * H, symbol=SYMBOL, timeframe="1h", open=o, high=h, low=lo, close=c,
                                    volume=1.0))
        prev = c
    return bars


@st.composite
def param_sets(draw):
    return Params(
        donchian_len=draw(st.integers(2, 6)),
        atr_len=draw(st.integers(1, 5)),
        atr_stop_k=draw(st.sampled_from([0.5, 1.2, 2.0])),
        atr_trail_k=draw(st.sampled_from([0.5, 1.0, 2.5])),
        breakeven_atr_k=draw(st.sampled_from([0.0, 0.5, 1.0])),
        risk_pct=draw(st.sampled_from([0.01, 0.025, 0.2])),
        position_cap=PositionCap(multiple=draw(st.sampled_from([0.5, 2.0])), min=1000.0, max=draw(
            st.sampled_from([5000.0, 25000.0]))),
        enable_pyramiding=draw(st.booleans()),
        pyramid_levels=((0.5, 0.5), (1.0, 0.3)),
        tp_levels=draw(st.sampled_from([(), ((1.0, 0.5),)])),
        daily_loss_limit=draw(st.sampled_from([0.0, 0.005, 0.02])),
        funding_avoid_min=draw(st.sampled_from([0, 30])),
    )


def simulate(params, bars, extra=()):
    inputs = sorted([session(), *bars, *extra], key=lambda e: (e.ts, not isinstance(e, ev.SessionStarted)))
    steps = []
    state, journal = run_loop(initial_state(params), params, inputs, SimVenue(params),
                              observe=lambda before, e, d: steps.append((before, e, d)))
    return journal, steps


@SETTINGS
@given(param_sets(), candle_streams())
def test_the_fold_is_deterministic(params, bars):
    a, _ = simulate(params, bars)
    b, _ = simulate(params, bars)
    assert msgspec.msgpack.encode(a) == msgspec.msgpack.encode(b)


@SETTINGS
@given(param_sets(), candle_streams())
def test_stop_never_loosens_within_a_position(params, bars):
    journal, _ = simulate(params, bars)
    current = None
    for e in journal:
        if isinstance(e, ev.StopMoved):
            if e.reason == "initial":
                current = (e.side, e.stop_price)
                continue
            side, price = current
            assert (e.stop_price > price) if side == "long" else (e.stop_price < price)
            current = (side, e.stop_price)
        elif isinstance(e, ev.PositionClosed):
            current = None


@SETTINGS
@given(param_sets(), candle_streams())
def test_planned_risk_and_notional_stay_within_limits(params, bars):
    journal, _ = simulate(params, bars)
    for plan in (e for e in journal if isinstance(e, ev.EntryPlanned)):
        assert plan.qty * abs(plan.ref_price - plan.stop_price) <= plan.equity * params.risk_pct * (1 + 1e-9)
        assert plan.notional <= notional_cap(plan.equity, params.leverage, params.position_cap) * (1 + 1e-9)


@SETTINGS
@given(param_sets(), candle_streams())
def test_entries_fill_after_the_signal_bar_at_the_next_open(params, bars):
    journal, _ = simulate(params, bars)
    opens = {b.ts: b.open for b in bars}
    signals = [e for e in journal if isinstance(e, ev.SignalDetected)]
    fills = [e for e in journal if isinstance(e, ev.OrderFilled) and e.purpose == "entry"]
    assert len(fills) <= len(signals)
    for sig, fill in zip(signals, fills):
        assert fill.ts == sig.ts + H and fill.price == opens[fill.ts]


@SETTINGS
@given(param_sets(), candle_streams())
def test_no_entry_in_funding_window_or_after_daily_loss_until_next_anchor(params, bars):
    journal, _ = simulate(params, bars)
    anchor, blocked = None, False
    for e in journal:
        if isinstance(e, ev.DailyAnchorReset):
            anchor, blocked = e.equity, False
        elif isinstance(e, ev.EquityMarked) and anchor and params.daily_loss_limit:
            blocked = blocked or e.equity <= anchor * (1 - params.daily_loss_limit)
        elif isinstance(e, ev.SignalDetected):
            assert not blocked
            close_ts = e.ts + H
            to_funding = min(close_ts % (8 * H), 8 * H - close_ts % (8 * H))
            assert params.funding_avoid_min == 0 or to_funding > params.funding_avoid_min * 60_000


@SETTINGS
@given(param_sets(), candle_streams())
def test_no_same_direction_reentry_without_structural_reset(params, bars):
    journal, _ = simulate(params, bars)
    blocked = set()
    for e in journal:
        if isinstance(e, ev.PositionClosed):
            blocked.add(e.side)
        elif isinstance(e, ev.StructuralReset):
            blocked.discard(e.side)
        elif isinstance(e, ev.SignalDetected):
            assert e.side not in blocked


@SETTINGS
@given(param_sets(), candle_streams(), st.integers(0, 60))
def test_a_halted_symbol_makes_no_entries(params, bars, at):
    halt = ev.HaltRequested(ts=T0 + at * H, symbol=SYMBOL)
    journal, _ = simulate(params, bars, extra=[halt])
    seen_halt = False
    for e in journal:
        seen_halt = seen_halt or isinstance(e, ev.Halted)
        if seen_halt:
            assert not isinstance(e, ev.SignalDetected) and not (
                isinstance(e, ev.OrderSubmitted) and e.purpose in ("entry", "pyramid"))


@SETTINGS
@given(param_sets(), candle_streams())
def test_every_flat_breakout_bar_yields_exactly_one_signal_event(params, bars):
    _, steps = simulate(params, bars)
    index = {b.ts: i for i, b in enumerate(bars)}
    n = params.donchian_len
    for before, e, decisions in steps:
        if not isinstance(e, ev.CandleClosed):
            continue
        i = index[e.ts]
        signals = [d for d in decisions if isinstance(d, (ev.SignalDetected, ev.SignalFiltered))]
        window = bars[i - n:i] if i >= n else []
        breakout = bool(window) and (e.close > max(b.high for b in window) or e.close < min(b.low for b in window))
        sym = before.sym.get(SYMBOL)
        flat = sym is None or (sym.pos is None and sym.phase in ("flat", "halted"))
        assert len(signals) == (1 if breakout and flat else 0)


@SETTINGS
@given(param_sets(), candle_streams(), st.sampled_from(["silent", "rejected"]))
def test_late_remainders_never_halt_and_every_bar_close_leaves_the_venue_position_covered(params, bars, answer):
    """Entries and pyramids fill half at the open and the rest at the next open, and a cancel of that rest
    arrives too late (no answer, or unknown_order first): the core adopts and closes such late fills and
    never halts; after every bar close, any venue position is covered by resting stops or a pending close."""
    venue = SimVenue(params)
    venue.late_remainders = answer
    inputs = sorted([session(), *bars], key=lambda e: (e.ts, not isinstance(e, ev.SessionStarted)))
    uncovered = []

    def after(before, e, decisions):
        if not isinstance(e, ev.CandleClosed):
            return
        signed = venue.position.get(SYMBOL, 0.0)
        if abs(signed) < 1e-9:
            return
        closing = "sell" if signed > 0 else "buy"
        stops = sum(o.qty for o in venue.resting + venue.fresh if o.side == closing and o.order_kind == "stop_market")
        pending = [o for o in venue.pending if o.side == closing and o.reduce_only]
        exiting = [d for d in decisions if isinstance(d, ev.OrderSubmitted) and d.reduce_only and d.side == closing]
        if stops < abs(signed) - 1e-9 and not pending and not exiting:
            uncovered.append((e.ts, signed, stops))

    state, journal = run_loop(initial_state(params), params, inputs, venue, observe=after)
    assert not [e for e in journal if isinstance(e, ev.Halted)]
    assert not [e for e in journal if isinstance(e, ev.ErrorRaised) and e.reason == "illegal_transition"]
    assert not uncovered
    late = [e for e in journal if isinstance(e, ev.ErrorRaised) and e.reason == "late_fill"]
    closed = [e for e in journal if isinstance(e, ev.EmergencyAction) and e.trigger == "late_fill"]
    assert len(late) == len(closed)
