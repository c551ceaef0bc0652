"""The MCP status fold: positions from fills, stops, halts (per symbol and global), protect_only."""
from cli.mcp_status import StatusFold
from journal.events import (
    EmergencyAction,
    Halted,
    OrderFilled,
    PositionClosed,
    Resumed,
    SessionStarted,
    StopMoved,
)


def fold(*events):
    status = StatusFold()
    for seq, event in enumerate(events, start=1):
        status.apply(seq, 1_700_000_000_000 + seq, event)
    return status.as_dict()


def fill(symbol, side, qty, purpose):
    return OrderFilled(ts=0, client_id="c", symbol=symbol, fill_id=f"{symbol}{qty}{purpose}", side=side, qty=qty,
                       price=10, purpose=purpose)


SESSION = SessionStarted(ts=0, run_id="r", mode="live", version="v", config_digest="d", symbols=("A/USDT", "B/USDT"))


def test_pyramid_adds_to_the_position_and_a_partial_exit_reduces_it():
    status = fold(SESSION, fill("A/USDT", "buy", 1, "entry"), fill("A/USDT", "buy", 0.3, "pyramid"),
                  fill("A/USDT", "sell", 0.5, "take_profit"), StopMoved(ts=0, symbol="A/USDT", side="long",
                                                                         stop_price=9, reason="trail"))
    a = status["symbols"]["A/USDT"]
    assert a["state"] == "long" and a["position"]["qty"] == 0.8 and a["stop"] == 9
    assert status["symbols"]["B/USDT"]["state"] == "flat"


def test_close_clears_position_and_stop():
    status = fold(SESSION, fill("B/USDT", "sell", 2, "entry"),
                  StopMoved(ts=0, symbol="B/USDT", side="short", stop_price=11, reason="initial"),
                  PositionClosed(ts=0, symbol="B/USDT", side="short", trade_id="t", qty=2, entry_ts=0,
                                 entry_price=10, exit_price=11, pnl=-2, fees=0, reason="stop"))
    assert status["symbols"]["B/USDT"] == {"state": "flat", "position": None, "stop": None}


def test_halts_per_symbol_and_for_all_then_resume():
    assert fold(SESSION, Halted(ts=0, symbol="A/USDT"))["symbols"]["A/USDT"]["state"] == "halted"
    everything = fold(SESSION, Halted(ts=0))
    assert {s["state"] for s in everything["symbols"].values()} == {"halted"}
    resumed = fold(SESSION, Halted(ts=0), Resumed(ts=0))
    assert {s["state"] for s in resumed["symbols"].values()} == {"flat"}


def test_block_entries_means_protect_only_and_last_record_is_reported():
    status = fold(SESSION, EmergencyAction(ts=0, policy="protect_only", action="block_entries", outcome="done"))
    assert status["protect_only"] is True and status["mode"] == "live"
    assert status["records"] == 2 and status["last_record"]["seq"] == 2
