"""The `orders` view's status fold against the documented precedence, over random answer sequences.

rejected > filled (unique fills reach the order qty) > canceled > partially_filled > accepted > submitted,
where `rejected` is a rejection of the order itself: one that came before any accept, fill or cancel. A later
rejection answers a cancel request (Binance -2011 for an order that already ended) and changes nothing.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest_projection import BTC, write_journal
from journal.events import (OrderAccepted, OrderCanceled, OrderCancelRequested, OrderFilled, OrderRejected,
                            OrderSubmitted)
from projections.db import connect

ANSWERS = st.lists(st.sampled_from(["accept", "reject", "cancel", "fill_quarter", "fill_half", "refill"]),
                   max_size=6)


def expected_status(answers: list[str]) -> tuple[str, float]:
    fills, filled = 0, 0.0
    rejected = False
    for k, a in enumerate(answers):
        if a in ("fill_quarter", "fill_half"):
            fills += 1
            filled += 1.0 if a == "fill_quarter" else 2.0
        if a == "reject" and "reject" not in answers[:k]:
            earlier = answers[:k]
            rejected = not ({"accept", "cancel", "fill_quarter", "fill_half"} & set(earlier))
    if rejected:
        return "rejected", filled
    if filled >= 4.0:
        return "filled", filled
    if "cancel" in answers:
        return "canceled", filled
    if filled > 0:
        return "partially_filled", filled
    return ("accepted" if "accept" in answers else "submitted"), filled


def order_events(n: int, answers: list[str]) -> list:
    cid = f"o{n}"
    events: list = [OrderSubmitted(ts=n, client_id=cid, symbol=BTC, side="buy", order_kind="limit", qty=4.0,
                                   purpose="entry", price=100.0)]
    last_fill = None
    for k, a in enumerate(answers):
        if a == "accept":
            events.append(OrderAccepted(ts=n, client_id=cid, symbol=BTC))
        elif a == "reject":
            events.append(OrderRejected(ts=n, client_id=cid, symbol=BTC, reason="margin"))
        elif a == "cancel":
            events.append(OrderCanceled(ts=n, client_id=cid, symbol=BTC))
        elif a in ("fill_quarter", "fill_half"):
            last_fill = OrderFilled(ts=n, client_id=cid, symbol=BTC, fill_id=f"{cid}-{k}", side="buy",
                                    qty=1.0 if a == "fill_quarter" else 2.0, price=100.0)
            events.append(last_fill)
        elif a == "refill" and last_fill is not None:
            events.append(last_fill)  # the same fill reported again: counts once
    return events


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(ANSWERS, min_size=1, max_size=8))
def test_order_status_follows_the_documented_precedence(tmp_path_factory, orders):
    events = [e for n, answers in enumerate(orders) for e in order_events(n, answers)]
    journal = write_journal(tmp_path_factory.mktemp("orders") / "j", events)
    con = connect(journal, read_only_query=True)
    try:
        got = con.execute("SELECT client_id, status, filled_qty FROM orders ORDER BY seq").fetchall()
    finally:
        con.close()
    assert got == [(f"o{n}", *expected_status(answers)) for n, answers in enumerate(orders)]


def _stop_status(tmp_path, answers: list) -> tuple:
    stop = OrderSubmitted(ts=1, client_id="S1", symbol=BTC, side="sell", order_kind="stop_market", qty=1.0,
                          purpose="stop", stop_price=90.0, reduce_only=True)
    write_journal(tmp_path / "j", [stop, OrderAccepted(ts=1, client_id="S1", symbol=BTC), *answers])
    con = connect(tmp_path / "j")
    try:
        return con.execute("SELECT status, filled_qty, status_reason FROM orders").fetchone()
    finally:
        con.close()


def test_a_refused_cancel_of_a_filled_stop_leaves_it_filled(tmp_path):
    # The stop filled while our cancel (a trail move) was on its way; the venue refuses the cancel.
    assert _stop_status(tmp_path, [
        OrderCancelRequested(ts=2, client_id="S1", symbol=BTC, reason="replaced"),
        OrderFilled(ts=2, client_id="S1", symbol=BTC, fill_id="S1-f1", side="sell", qty=1.0, price=90.0,
                    purpose="stop", cum_qty=1.0, order_qty=1.0),
        OrderRejected(ts=2, client_id="S1", symbol=BTC, reason="unknown_order", code=-2011, message="order is filled"),
    ]) == ("filled", 1.0, None)


def test_a_refused_cancel_of_a_canceled_order_leaves_it_canceled_with_the_cancel_reason(tmp_path):
    # The venue canceled the take-profit itself (position closed); our own cancel then comes back refused.
    assert _stop_status(tmp_path, [
        OrderCanceled(ts=2, client_id="S1", symbol=BTC, reason="position_closed"),
        OrderCancelRequested(ts=2, client_id="S1", symbol=BTC, reason="position_closed"),
        OrderRejected(ts=2, client_id="S1", symbol=BTC, reason="unknown_order", code=-2011,
                      message="order is canceled"),
    ]) == ("canceled", 0.0, "position_closed")
