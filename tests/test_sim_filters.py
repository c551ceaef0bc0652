"""exchange-sim refuses quantities and prices off the symbol's LOT_SIZE / PRICE_FILTER, with Binance's
codes, so an unrounded number reaching the venue fails a test (ccxt's raw endpoints send it unrounded)."""
from __future__ import annotations

import ccxt
import pytest

from conftest_exchange import sim  # noqa: F401 - fixture
from exchange.sim.filters import check_price, check_quantity
from exchange.sim.markets import Rules
from exchange.sim.signing import ApiError
from test_sim_server import raw_client


def code_of(exc: Exception) -> int:
    return int(str(exc).split('"code":')[1].split(",")[0])


@pytest.mark.parametrize("quantity,code", [
    ("0.0123456", -1111),  # more decimals than quantityPrecision 3 (stepSize 0.001)
    ("0", -4003),
    ("121", -4005),  # above MARKET_LOT_SIZE maxQty 120
])
def test_a_market_quantity_off_the_lot_size_is_rejected_with_binances_code(sim, quantity, code):
    client = raw_client(sim.url)
    with pytest.raises(ccxt.BadRequest) as caught:
        client.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": quantity,
                                     "newClientOrderId": "q-1"})
    assert code_of(caught.value) == code
    assert not sim.venue.orders


def test_a_trigger_price_with_more_decimals_than_the_tick_is_rejected(sim):
    client = raw_client(sim.url)
    client.create_order("BTC/USDT:USDT", "market", "buy", 0.01, None, {"clientOrderId": "e-1"})
    with pytest.raises(ccxt.BadRequest) as caught:
        client.fapiPrivatePostAlgoOrder({"symbol": "BTCUSDT", "side": "SELL", "algoType": "CONDITIONAL",
                                         "type": "STOP_MARKET", "quantity": "0.01", "triggerPrice": "60000.05",
                                         "reduceOnly": "true", "clientAlgoId": "t-1"})
    assert code_of(caught.value) == -1111 and not sim.venue.algos  # tick 0.1


def test_rounded_orders_through_ccxt_pass_the_filters(sim):
    client = raw_client(sim.url)  # ccxt rounds amount and prices to the announced step and tick
    client.load_markets()
    client.create_order("BTC/USDT:USDT", "market", "buy", 0.0119, None, {"clientOrderId": "e-1"})
    stop = client.create_order("BTC/USDT:USDT", "market", "sell", 0.0119, None,
                               {"clientAlgoId": "s-1", "stopLossPrice": 1000.07, "reduceOnly": True})
    assert [o.qty for o in sim.venue.orders.values()] == [0.011] and stop["triggerPrice"] == 1000.1


def test_quantity_step_and_price_tick_multiples_on_coarser_rules():
    rules = Rules(tick_size=0.5, step_size=0.05, min_qty=0.1, min_notional=5.0)
    with pytest.raises(ApiError, match="tick size") as tick:
        check_price("100.3", rules)
    with pytest.raises(ApiError, match="step size") as step:
        check_quantity("0.12", rules, market=True)
    with pytest.raises(ApiError, match="min quantity") as small:
        check_quantity("0.05", rules, market=True)
    assert (tick.value.code, step.value.code, small.value.code) == (-4014, -4023, -4004)
    check_price("100.5", rules)
    check_quantity("0.15", rules, market=False)
