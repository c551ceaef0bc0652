"""`journal audit DIR --kill-switch [--json]` over synthetic journals with kill-switch trips."""
from __future__ import annotations

import json

import pytest

from conftest_projection import BTC, ETH, journal_in_process, run_journal, trading_session, write_journal
from journal.events import (EmergencyAction, EquityObserved, ErrorObserved, Halted, KillSwitchTripped, OrderAccepted,
                            OrderFilled, OrderSubmitted, PositionClosed, SessionStarted, StopMoved)

T0 = 1_700_000_000_000


def burst_then_flatten() -> list:
    """BTC long 3 (two fills, avg 101), stop at 95; ETH short 1 with a half-filled limit add;
    an old unrelated error, then a burst that trips the switch; flatten closes both."""
    return [
        SessionStarted(ts=T0, run_id="live-1", mode="live", version="0.1.0", config_digest="d",
                       symbols=(BTC, ETH, "SOL/USDT")),                                     # seq 1
        EquityObserved(ts=T0, equity=5_000.0),                                              # 2
        ErrorObserved(ts=T0 + 1_000, reason="network", message="old timeout"),              # 3
        OrderSubmitted(ts=T0 + 2_000, client_id="b-e", symbol=BTC, side="buy", order_kind="market", qty=3.0,
                       purpose="entry"),                                                    # 4
        OrderFilled(ts=T0 + 2_000, client_id="b-e", symbol=BTC, fill_id="1", side="buy", qty=1.0, price=100.0),
        OrderFilled(ts=T0 + 2_001, client_id="b-e", symbol=BTC, fill_id="2", side="buy", qty=2.0, price=101.5),
        StopMoved(ts=T0 + 2_001, symbol=BTC, side="long", stop_price=95.0, reason="initial"),  # 7
        OrderSubmitted(ts=T0 + 2_002, client_id="b-s", symbol=BTC, side="sell", order_kind="stop_market",
                       qty=3.0, purpose="stop", stop_price=95.0, reduce_only=True),         # 8
        OrderAccepted(ts=T0 + 2_002, client_id="b-s", symbol=BTC),                          # 9
        OrderSubmitted(ts=T0 + 3_000, client_id="e-e", symbol=ETH, side="sell", order_kind="market", qty=1.0,
                       purpose="entry"),                                                    # 10
        OrderFilled(ts=T0 + 3_000, client_id="e-e", symbol=ETH, fill_id="3", side="sell", qty=1.0, price=50.0),
        OrderSubmitted(ts=T0 + 3_500, client_id="e-p", symbol=ETH, side="sell", order_kind="limit", qty=0.5,
                       purpose="pyramid", price=49.0),                                      # 12
        OrderFilled(ts=T0 + 3_600, client_id="e-p", symbol=ETH, fill_id="4", side="sell", qty=0.25, price=49.0),
        ErrorObserved(ts=T0 + 120_000, reason="rate_limit", code=-1003, message="too many requests"),  # 14
        ErrorObserved(ts=T0 + 121_000, reason="network", message="timeout", symbol=BTC),    # 15
        ErrorObserved(ts=T0 + 122_000, reason="nonce", code=-1021, message="timestamp ahead"),  # 16
        KillSwitchTripped(ts=T0 + 122_000, reason="error_burst", error_seqs=(14, 15, 16),
                          error_reasons=("rate_limit", "network", "nonce"), window_sec=60, max_errors=3),  # 17
        Halted(ts=T0 + 122_000, reason="kill_switch"),                                      # 18
        EmergencyAction(ts=T0 + 122_050, policy="flatten", action="block_entries", outcome="done"),  # 19
        EmergencyAction(ts=T0 + 122_400, policy="flatten", action="close", outcome="done", symbol=ETH),  # 20
        OrderFilled(ts=T0 + 122_400, client_id="x-e", symbol=ETH, fill_id="5", side="buy", qty=1.25, price=48.0),
        PositionClosed(ts=T0 + 122_400, symbol=ETH, side="short", trade_id="E1", qty=1.25, entry_ts=T0 + 3_000,
                       entry_price=49.8, exit_price=48.0, pnl=2.25, fees=0.0, reason="emergency"),  # 22
        OrderFilled(ts=T0 + 123_900, client_id="x-b", symbol=BTC, fill_id="6", side="sell", qty=3.0, price=99.0),
        PositionClosed(ts=T0 + 123_900, symbol=BTC, side="long", trade_id="B1", qty=3.0, entry_ts=T0 + 2_000,
                       entry_price=101.0, exit_price=99.0, pnl=-6.0, fees=0.0, reason="emergency"),  # 24
        EmergencyAction(ts=T0 + 123_950, policy="flatten", action="close", outcome="done", symbol=BTC),  # 25
        ErrorObserved(ts=T0 + 200_000, reason="time_drift", message="drift 2500 ms"),       # 26
        KillSwitchTripped(ts=T0 + 200_500, reason="time_drift", window_sec=30),             # 27
        EmergencyAction(ts=T0 + 200_600, policy="protect_only", action="block_entries", outcome="done"),
    ]


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    journal = write_journal(tmp_path_factory.mktemp("audit") / "j", burst_then_flatten())
    out = journal_in_process("audit", journal, "--kill-switch", "--json")
    assert out.returncode == 0, out.stderr
    return journal, json.loads(out.stdout)


def test_every_trip_is_listed_in_order(audit):
    _, report = audit
    assert report["trips"] == 2
    assert [(t["seq"], t["reason"]) for t in report["kill_switch"]] == [(17, "error_burst"), (27, "time_drift")]


def test_trigger_is_the_errors_named_by_the_trip_not_older_ones(audit):
    trip = audit[1]["kill_switch"][0]
    assert [(e["seq"], e["reason"], e["code"]) for e in trip["trigger"]] == [
        (14, "rate_limit", -1003), (15, "network", None), (16, "nonce", -1021)]


def test_trigger_without_named_errors_uses_the_window_before_the_trip(audit):
    trip = audit[1]["kill_switch"][1]
    assert [e["seq"] for e in trip["trigger"]] == [26]  # 30 s window: the burst at +122 s is too old


def test_symbol_state_at_the_trip_is_folded_from_fills_and_stops(audit):
    symbols = {s["symbol"]: s for s in audit[1]["kill_switch"][0]["symbols"]}
    assert symbols[BTC] == {"symbol": BTC, "side": "long", "qty": 3.0, "entry_price": 101.0, "stop_price": 95.0,
                            "halted": False}
    assert symbols[ETH]["side"] == "short" and symbols[ETH]["qty"] == 1.25
    assert symbols[ETH]["entry_price"] == pytest.approx(49.8) and symbols[ETH]["stop_price"] is None
    assert symbols["SOL/USDT"]["side"] == "flat"


def test_open_orders_at_the_trip(audit):
    orders = {o["client_id"]: o for o in audit[1]["kill_switch"][0]["open_orders"]}
    assert set(orders) == {"b-s", "e-p"}
    assert (orders["b-s"]["status"], orders["b-s"]["stop_price"], orders["b-s"]["reduce_only"]) == (
        "accepted", 95.0, True)
    assert (orders["e-p"]["status"], orders["e-p"]["filled_qty"]) == ("partially_filled", 0.25)


def test_actions_that_followed_with_outcomes_and_time_to_flat(audit):
    first, second = audit[1]["kill_switch"]
    assert [(a["action"], a["symbol"], a["outcome"], a["after_ms"]) for a in first["actions"]] == [
        ("block_entries", None, "done", 50), ("close", ETH, "done", 400), ("close", BTC, "done", 1_950)]
    assert [(c["symbol"], c["after_ms"], c["pnl"]) for c in first["closes"]] == [(ETH, 400, 2.25), (BTC, 1_900, -6.0)]
    assert first["time_to_last_action_ms"] == 1_950
    assert first["time_to_flat_or_protected_ms"] == 1_900  # BTC flat at its closing fill
    assert first["unresolved_symbols"] == [] and first["equity"] == 5_000.0
    assert [a["policy"] for a in second["actions"]] == ["protect_only"]
    assert second["time_to_flat_or_protected_ms"] == 0  # nothing was open at the second trip
    assert all(s["halted"] for s in second["symbols"])


def test_protection_never_reached_is_reported_as_unresolved(tmp_path):
    events = burst_then_flatten()[:17] + [
        EmergencyAction(ts=T0 + 122_100, policy="protect_only", action="ensure_stop", outcome="done", symbol=BTC),
        EmergencyAction(ts=T0 + 122_300, policy="protect_only", action="fallback_stop", outcome="failed",
                        reason="order_error", symbol=ETH),
    ]
    journal = write_journal(tmp_path / "j", events)
    trip = json.loads(journal_in_process("audit", journal, "--kill-switch", "--json").stdout)["kill_switch"][0]
    assert trip["time_to_flat_or_protected_ms"] is None and trip["unresolved_symbols"] == [ETH]
    assert trip["time_to_last_action_ms"] == 300
    table = journal_in_process("audit", journal, "--kill-switch")
    assert table.returncode == 0 and "NOT reached (unresolved: ETH/USDT)" in table.stdout


def test_table_output_names_trigger_state_orders_and_actions(audit):
    journal, _ = audit
    out = run_journal("audit", journal, "--kill-switch")  # the installed console script
    assert out.returncode == 0, out.stderr
    for text in ("2 kill-switch trips", "error_burst", "too many requests", "stop_market", "partially_filled",
                 "block_entries", "time to flat/protected: 1900 ms"):
        assert text in out.stdout


def test_no_trips_exits_0_and_says_so(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session()[:-1])
    out = journal_in_process("audit", journal, "--kill-switch")
    assert out.returncode == 0 and out.stdout.strip() == "no kill-switch trips"
    as_json = json.loads(journal_in_process("audit", journal, "--kill-switch", "--json").stdout)
    assert as_json["trips"] == 0 and as_json["kill_switch"] == []


def test_audit_needs_a_kind_and_a_journal(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    no_kind = journal_in_process("audit", journal)
    assert no_kind.returncode == 2 and "--kill-switch" in no_kind.stderr
    missing = journal_in_process("audit", tmp_path / "missing", "--kill-switch")
    assert missing.returncode == 2 and "missing" in missing.stderr and "Traceback" not in missing.stderr


def test_a_restart_reconcile_replaces_positions_and_open_orders(tmp_path):
    from journal.events import ReconcileObserved

    before_restart = burst_then_flatten()[:13]  # BTC long 3 with stop order b-s; ETH short 1.25, e-p open
    events = before_restart + [
        ReconcileObserved(ts=T0 + 50_000, positions=[{"symbol": BTC, "side": "long", "qty": 1.0,
                                                      "entry_price": 101.0}],
                          open_orders=[{"client_id": "b-s2", "symbol": BTC, "side": "sell",
                                        "order_kind": "stop_market", "qty": 1.0, "filled_qty": 0.0,
                                        "status": "open", "stop_price": 96.0, "reduce_only": True}]),
        KillSwitchTripped(ts=T0 + 60_000, reason="operator"),
    ]
    journal = write_journal(tmp_path / "j", events)
    trip = json.loads(journal_in_process("audit", journal, "--kill-switch", "--json").stdout)["kill_switch"][0]
    symbols = {s["symbol"]: s for s in trip["symbols"]}
    assert (symbols[BTC]["side"], symbols[BTC]["qty"], symbols[BTC]["entry_price"]) == ("long", 1.0, 101.0)
    assert symbols[BTC]["stop_price"] == 95.0  # the last stop we set; the exchange order now says 96
    assert symbols[ETH]["side"] == "flat"
    assert [(o["client_id"], o["purpose"], o["stop_price"]) for o in trip["open_orders"]] == [
        ("b-s2", "reconcile", 96.0)]


def test_durations_also_in_recording_wall_time(tmp_path):
    from journal.writer import JournalWriter

    wall = iter(range(1_800_000_000_000, 1_900_000_000_000, 250))  # each record 250 ms after the previous
    with JournalWriter.open(tmp_path / "j", wall_clock=lambda: next(wall)) as writer:
        for event in burst_then_flatten()[:25]:  # up to the BTC close at seq 24 and the action at 25
            writer.append([event], durable=False)
    trip = json.loads(journal_in_process("audit", tmp_path / "j", "--kill-switch", "--json").stdout)["kill_switch"][0]
    assert [a["after_wall_ms"] for a in trip["actions"]] == [500, 750, 2_000]  # seqs 19, 20, 25 after 17
    assert trip["time_to_last_action_wall_ms"] == 2_000
    assert trip["time_to_flat_or_protected_wall_ms"] == 1_500  # BTC flat at its closing fill, seq 23
    assert trip["time_to_flat_or_protected_ms"] == 1_900  # the same moment in event time
