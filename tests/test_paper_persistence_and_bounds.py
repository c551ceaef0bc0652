"""The paper venue survives its bot (saved state) and never fills outside a bar."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from exchange.paper import PaperExchange
from exchange.paper_state import STATE_FILE
from journal.errors import BadInput
from journal.events import CandleClosed, OrderCancelRequested, OrderFilled, OrderSubmitted

H = 3_600_000
SYMBOL = "ETH/USDT"


def bar(i: int, o: float, h: float, l: float, c: float) -> CandleClosed:
    return CandleClosed(ts=i * H, symbol=SYMBOL, timeframe="1h", open=o, high=h, low=l, close=c, volume=1.0)


def submitted(cid: str, side: str, qty: float, kind: str = "market", stop: float | None = None,
              reduce_only: bool = False) -> OrderSubmitted:
    return OrderSubmitted(ts=0, client_id=cid, symbol=SYMBOL, side=side, order_kind=kind, qty=qty,
                          purpose="entry", stop_price=stop, reduce_only=reduce_only)


def test_a_restarted_paper_exchange_restores_orders_positions_and_cash(tmp_path):
    path = tmp_path / STATE_FILE
    first = PaperExchange(state_path=path)
    first.load_markets([SYMBOL], ts=0)
    first.advance(bar(0, 100, 101, 99, 100)), first.bar_closed(bar(0, 100, 101, 99, 100))
    first.submit(submitted("e", "buy", 1.0))
    first.advance(bar(1, 100, 102, 99, 101)), first.bar_closed(bar(1, 100, 102, 99, 101))
    first.submit(submitted("s", "sell", 1.0, "stop_market", stop=95.0, reduce_only=True))
    assert json.loads(path.read_text())["orders"]["s"]["status"] == "open"

    second = PaperExchange(state_path=path)
    second.load_markets([SYMBOL], ts=0)
    assert [(p.side, p.qty, p.entry_price) for p in second.positions()] == [("long", 1.0, 100.0)]
    assert [o.client_id for o in second.open_orders(SYMBOL)] == ["s"]
    assert second.equity() == pytest.approx(first.equity())
    fill = [e for e in second.advance(bar(2, 96, 97, 94, 95)) if isinstance(e, OrderFilled)]
    assert [(f.client_id, f.price) for f in fill] == [("s", 95.0)]


def test_a_re_fed_bar_gets_the_same_answers_without_filling_twice(tmp_path):
    path = tmp_path / STATE_FILE
    exchange = PaperExchange(state_path=path)
    exchange.load_markets([SYMBOL], ts=0)
    exchange.bar_closed(bar(0, 100, 101, 99, 100))
    exchange.submit(submitted("e", "buy", 1.0))
    answers = exchange.advance(bar(1, 100, 102, 99, 101))
    restarted = PaperExchange(state_path=path)
    assert restarted.advance(bar(1, 100, 102, 99, 101)) == answers
    assert restarted.advance(bar(0, 100, 101, 99, 100)) == []
    assert restarted.positions()[0].qty == 1.0


def test_a_corrupt_state_file_is_bad_input_naming_it(tmp_path):
    path = tmp_path / STATE_FILE
    path.write_text("{not json")
    with pytest.raises(BadInput, match=STATE_FILE):
        PaperExchange(state_path=path)


prices = st.floats(min_value=10.0, max_value=1_000.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    entry_open=prices, points=st.lists(prices, min_size=4, max_size=4), stop=prices, target=prices,
    intrabar=st.booleans(),
)
def test_every_fill_lies_inside_its_bar(entry_open, points, stop, target, intrabar):
    """Any stop/take-profit level, any bar shape, resting or placed intrabar: fills stay in [low, high]."""
    low, high = min(points), max(points)
    o, c = points[0], points[1]
    exchange = PaperExchange(initial_equity=1e9)
    exchange.load_markets([SYMBOL], ts=0)
    exchange.bar_closed(bar(0, entry_open, entry_open, entry_open, entry_open))
    exchange.submit(submitted("e", "buy", 1.0))
    candle = bar(1, o, high, low, c)
    answers = exchange.advance(candle)
    if not intrabar:
        answers += exchange.bar_closed(candle)
        candle = bar(2, o, high, low, c)
        answers += exchange.advance(candle)
    exchange.submit(submitted("s", "sell", 1.0, "stop_market", stop=stop, reduce_only=True))
    exchange.submit(submitted("t", "sell", 1.0, "take_profit_market", stop=target, reduce_only=True))
    answers += exchange.bar_closed(candle)
    for event in answers:
        if isinstance(event, OrderFilled):
            assert low <= event.price <= high
            assert event.fill_id == f"{event.client_id}-f1"
    assert len(exchange.positions()) <= 1 and all(p.side == "long" for p in exchange.positions())


def test_the_state_file_stays_small_on_a_long_run(tmp_path):
    from exchange import paper

    path = tmp_path / STATE_FILE
    exchange = PaperExchange(state_path=path)
    exchange.load_markets([SYMBOL], ts=0)
    exchange.bar_closed(bar(0, 100, 101, 99, 100))
    for i in range(3 * paper.KEEP_ENDED):
        exchange.submit(submitted(f"s{i}", "sell", 1.0, "stop_market", stop=50.0, reduce_only=True))
        exchange.cancel(OrderCancelRequested(ts=0, client_id=f"s{i}", symbol=SYMBOL))
    exchange.submit(submitted("keep", "sell", 1.0, "stop_market", stop=50.0, reduce_only=True))
    restored = PaperExchange(state_path=path)
    assert len(json.loads(path.read_text())["orders"]) <= 2 * paper.KEEP_ENDED + 1
    assert restored.fetch_order("keep", SYMBOL).status == "open"
    assert restored.fetch_order(f"s{3 * paper.KEEP_ENDED - 1}", SYMBOL).status == "canceled"
    assert restored.fetch_order("s0", SYMBOL) is None
