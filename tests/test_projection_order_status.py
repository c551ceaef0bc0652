"""The `orders` view's status fold against the documented precedence, over random answer sequences.

rejected > filled (unique fills reach the order qty) > canceled > partially_filled > accepted > submitted.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest_projection import BTC, write_journal
from journal.events import OrderAccepted, OrderCanceled, OrderFilled, OrderRejected, OrderSubmitted
from projections.db import connect

ANSWERS = st.lists(st.sampled_from(["accept", "reject", "cancel", "fill_quarter", "fill_half", "refill"]),
                   max_size=6)


def expected_status(answers: list[str]) -> tuple[str, float]:
    fills, filled = 0, 0.0
    for a in answers:
        if a in ("fill_quarter", "fill_half"):
            fills += 1
            filled += 1.0 if a == "fill_quarter" else 2.0
    if "reject" in answers:
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
