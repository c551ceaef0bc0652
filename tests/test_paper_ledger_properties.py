"""Property: whatever orders and bars arrive, the paper venue's books add up.

Position = signed sum of fills; equity = initial + realized pnl - fees, with realized pnl
recomputed here independently from the fills (average-cost, one-way mode); reduce-only
orders never flip or open a position."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from exchange.paper import PaperExchange
from journal.events import CandleClosed, OrderFilled, OrderSubmitted

H = 3_600_000
SYMBOL = "ETH/USDT"

order_specs = st.tuples(
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(["market", "stop_market", "take_profit_market"]),
    st.floats(min_value=0.1, max_value=3.0),  # qty
    st.floats(min_value=-0.1, max_value=0.1),  # level offset from the last close (fraction)
    st.booleans(),  # reduce_only
)
bars = st.lists(st.tuples(st.floats(-0.05, 0.05), st.floats(0, 0.05), st.floats(0, 0.05), st.floats(-0.05, 0.05)),
                min_size=3, max_size=12)


def replay_ledger(fills: list[OrderFilled]) -> tuple[float, float, float]:
    """(signed position, realized pnl, fees) from the fills alone."""
    qty, avg, realized, fees = 0.0, 0.0, 0.0, 0.0
    for f in fills:
        delta = f.qty if f.side == "buy" else -f.qty
        fees += f.fee
        if qty == 0 or (qty > 0) == (delta > 0):
            avg = (abs(qty) * avg + f.qty * f.price) / (abs(qty) + f.qty)
            qty += delta
            continue
        closing = min(abs(delta), abs(qty))
        realized += closing * (f.price - avg) * (1 if qty > 0 else -1)
        rest = abs(delta) - closing
        qty = qty + delta if rest <= 1e-12 else (rest if delta > 0 else -rest)
        if rest > 1e-12:
            avg = f.price
        if abs(qty) <= 1e-12:
            qty, avg = 0.0, 0.0
    return qty, realized, fees


@settings(max_examples=150, deadline=None)
@given(moves=bars, orders=st.lists(st.lists(order_specs, max_size=3), min_size=3, max_size=12))
def test_positions_and_equity_always_reconcile_with_the_fills(moves, orders):
    venue = PaperExchange(initial_equity=50_000.0, fee_rate=0.0004)
    venue.load_markets([SYMBOL], ts=0)
    price, number, answers = 1_000.0, 0, []
    for i, (drift, up, down, close_drift) in enumerate(moves):
        o = price
        c = o * (1 + close_drift)
        candle = CandleClosed(ts=i * H, symbol=SYMBOL, timeframe="1h", open=o, high=max(o, c) * (1 + up),
                              low=min(o, c) * (1 - down), close=c, volume=1.0)
        answers += venue.advance(candle)
        answers += venue.bar_closed(candle)
        for side, kind, qty, offset, reduce_only in orders[i % len(orders)]:
            number += 1
            level = None if kind == "market" else c * (1 + offset)
            before = sum(p.qty if p.side == "long" else -p.qty for p in venue.positions())
            answers += venue.submit(OrderSubmitted(ts=i * H, client_id=f"o{number}", symbol=SYMBOL, side=side,
                                                   order_kind=kind, qty=round(qty, 3), purpose="entry",
                                                   stop_price=level, reduce_only=reduce_only))
            assert sum(p.qty if p.side == "long" else -p.qty for p in venue.positions()) == before  # no fill on submit
        price = c * (1 + drift)
    fills = [a for a in answers if isinstance(a, OrderFilled)]
    qty, realized, fees = replay_ledger(fills)
    held = sum(p.qty if p.side == "long" else -p.qty for p in venue.positions())
    assert held == pytest.approx(qty, abs=1e-9)
    # The venue keeps quantities as a decimal book does: orders of 3 decimals hold and fill 3 decimals, never
    # float residue such as 3.5679999999999996 (which ccxt would truncate to 3.567 when sent to Binance).
    assert all(f.qty == round(f.qty, 3) for f in fills) and held == round(held, 3)
    assert venue.equity() == pytest.approx(50_000.0 + realized - fees, rel=1e-12, abs=1e-6)
    signed = 0.0
    for f in fills:  # reduce-only fills only ever shrink the position toward zero
        delta = f.qty if f.side == "buy" else -f.qty
        order = venue.fetch_order(f.client_id, SYMBOL)
        if order.reduce_only:
            assert signed != 0 and abs(signed + delta) <= abs(signed) + 1e-12 and (signed + delta) * signed >= -1e-12
        signed += delta
