"""Every contract view (DESIGN.md) built from a synthetic journal, row for row."""
from __future__ import annotations

import json

import pytest

from conftest_projection import BTC, ETH, H, trading_session, write_journal
from journal.events import TAGS
from projections.db import connect, query_df

CONTRACT_COLUMNS = {
    "events": ["seq", "ts", "kind", "symbol"],
    "candles": ["symbol", "ts", "open", "high", "low", "close", "volume"],
    "signals": ["seq", "symbol", "ts", "side", "accepted", "filter_reason", "close", "channel_high",
                "channel_low", "atr"],
    "orders": ["client_id", "symbol", "ts", "side", "kind", "qty", "price", "stop_price", "reduce_only",
               "purpose", "status"],
    "fills": ["seq", "client_id", "symbol", "ts", "side", "qty", "price", "fee", "purpose"],
    "trades": ["trade_id", "symbol", "side", "entry_ts", "exit_ts", "entry_price", "exit_price", "qty", "pnl",
               "fees", "exit_reason"],
    "stops": ["seq", "symbol", "ts", "side", "stop_price", "reason"],
    "equity": ["ts", "equity"],
    "anchors": ["day", "equity"],
    "kill_switch": ["seq", "ts", "reason"],
}


def rows(journal, sql):
    """Exact Python values (None stays None) through the public connect()."""
    con = connect(journal, read_only_query=True)
    try:
        return [list(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    return write_journal(tmp_path_factory.mktemp("proj") / "j", trading_session())


@pytest.mark.parametrize("view", sorted(CONTRACT_COLUMNS))
def test_view_starts_with_the_contract_columns(journal, view):
    df = query_df(journal, f"SELECT * FROM {view} LIMIT 0")
    assert list(df.columns[: len(CONTRACT_COLUMNS[view])]) == CONTRACT_COLUMNS[view]


def test_events_view_has_every_record_with_its_json_payload(journal):
    df = query_df(journal, "SELECT seq, ts, kind, symbol, payload FROM events ORDER BY seq")
    events = trading_session()
    assert df["seq"].tolist() == list(range(1, len(events) + 1))
    assert df["kind"].tolist() == [type(e).__struct_config__.tag for e in events]
    assert set(df["kind"]) <= set(TAGS)
    candle_row = df[df["kind"] == "candle_closed"].iloc[0]
    assert candle_row["symbol"] == BTC and json.loads(candle_row["payload"])["close"] == 100.0
    assert df.loc[df["kind"] == "session_started", "symbol"].isna().all()


def test_candles_keep_exact_floats(journal):
    got = rows(journal, f"SELECT ts, open, high, low, close, volume FROM candles WHERE symbol = '{BTC}' "
                        "ORDER BY ts")
    assert got == [[0, 99.0, 102.0, 97.0, 100.0, 10.0], [H, 109.0, 112.0, 107.0, 110.0, 11.0],
                    [2 * H, 117.0, 120.0, 115.0, 118.0, 12.0], [3 * H, 108.0, 111.0, 106.0, 109.0, 13.0]]


def test_signals_accepted_and_filtered_with_reason(journal):
    assert rows(journal, "SELECT symbol, side, accepted, filter_reason, close, atr FROM signals ORDER BY seq") == [
        [BTC, "long", True, None, 110.0, 4.0], [ETH, "short", False, "funding_window", 40.0, 2.0]]


def test_order_status_folds_accepted_rejected_filled_canceled(journal):
    assert rows(journal, "SELECT client_id, status, filled_qty, kind, purpose, reduce_only, stop_price "
                         "FROM orders ORDER BY seq") == [
        ["c-entry", "filled", 2.0, "market", "entry", False, None],
        ["c-eth", "rejected", 0.0, "market", "entry", False, None],
        ["c-stop1", "canceled", 0.0, "stop_market", "stop", True, 103.0],
        ["c-stop2", "filled", 2.0, "stop_market", "stop", True, 111.375],
    ]


def test_partial_fill_shows_partially_filled(tmp_path):
    events = trading_session()[:13]  # up to the first 0.5-of-2.0 fill of c-entry
    journal = write_journal(tmp_path / "j", events)
    status = rows(journal, "SELECT status, filled_qty FROM orders WHERE client_id = 'c-entry'")
    assert status == [["partially_filled", 0.5]]


def test_fills_count_a_duplicate_fill_report_once(journal):
    assert rows(journal, "SELECT client_id, qty, price, fee, purpose FROM fills ORDER BY seq") == [
        ["c-entry", 0.5, 111.0, 0.02775, "entry"], ["c-entry", 1.5, 111.5, 0.083625, "entry"],
        ["c-stop2", 2.0, 111.375, 0.111375, "stop"]]
    raw = query_df(journal, "SELECT count(*) AS n FROM events WHERE kind = 'order_filled'")["n"][0]
    assert raw == 4


def test_trades_from_position_closed_net_of_fees(journal):
    df = query_df(journal, "SELECT * FROM trades")
    row = df.iloc[0]
    assert len(df) == 1
    assert (row.trade_id, row.symbol, row.side, row.entry_ts, row.exit_ts) == ("BTC-1", BTC, "long", 2 * H, 3 * H)
    assert (row.pnl, row.fees, row.exit_reason) == (-0.22275, 0.22275, "breakeven")


def test_stops_every_set_or_move(journal):
    assert rows(journal, "SELECT ts, side, stop_price, reason FROM stops ORDER BY seq") == [
        [H, "long", 103.0, "initial"], [2 * H, "long", 111.375, "breakeven"]]


def test_equity_is_the_start_then_the_core_marks_not_observed(journal):
    # the start (equity 10 000 at ts 0): the first equity observed, else the first daily anchor, before any mark
    assert rows(journal, "SELECT ts, equity, source FROM equity ORDER BY seq") == [
        [0, 10_000.0, "start"], [2 * H, 10_013.0, "marked"], [3 * H, 9_999.77725, "marked"]]


def test_equity_of_a_run_that_never_held_a_position_is_its_start(tmp_path):
    events = [e for e in trading_session() if type(e).__name__ not in ("EquityMarked", "EquityObserved")]
    journal = write_journal(tmp_path / "j", events)
    assert rows(journal, "SELECT ts, equity, source FROM equity") == [[0, 10_000.0, "start"]]


def test_a_live_start_is_the_first_observed_wallet_at_the_session_start(tmp_path):
    # live: the first bar is decided (anchored at the config's 10 000) before the wallet is read (5 000, at
    # poll time, after that bar's close); the next bar's mark carries its open time, earlier than the read
    from journal.events import DailyAnchorReset, EquityMarked, EquityObserved, SessionStarted
    events = [SessionStarted(ts=H // 2, run_id="live-1", mode="live", version="0.1.0", config_digest="abc"),
              DailyAnchorReset(ts=H, day="1970-01-01", equity=10_000.0),
              EquityObserved(ts=2 * H + 5_000, equity=5_000.0),
              EquityMarked(ts=2 * H, equity=5_010.0, realized=5_000.0, unrealized=10.0),
              EquityObserved(ts=3 * H + 5_000, equity=5_010.0)]
    journal = write_journal(tmp_path / "j", events)
    assert rows(journal, "SELECT ts, equity, source FROM equity ORDER BY ts, seq") == [
        [H // 2, 5_000.0, "start"], [2 * H, 5_010.0, "marked"]]


def test_an_anchor_after_the_first_mark_is_no_start(tmp_path):
    events = [e for e in trading_session() if type(e).__name__ != "EquityObserved"
              and not (type(e).__name__ == "DailyAnchorReset" and e.ts == 0)]
    journal = write_journal(tmp_path / "j", events)
    assert rows(journal, "SELECT ts, equity, source FROM equity ORDER BY seq") == [
        [2 * H, 10_013.0, "marked"], [3 * H, 9_999.77725, "marked"]]


def test_equity_falls_back_to_observed_without_marks(tmp_path):
    journal = write_journal(tmp_path / "j", [e for e in trading_session() if type(e).__name__ != "EquityMarked"])
    assert rows(journal, "SELECT ts, equity FROM equity") == [[0, 10_000.0]]


def test_anchors_and_kill_switch(journal):
    assert rows(journal, "SELECT day, equity FROM anchors ORDER BY day") == [
        ["1970-01-01", 10_000.0], ["1970-01-02", 9_999.77725]]
    ks = rows(journal, "SELECT seq, ts, reason FROM kill_switch")
    assert ks == [[len(trading_session()), 25 * H, "operator"]]


def test_connect_returns_a_connection_where_views_can_be_joined(journal):
    con = connect(journal)
    try:
        rows = con.execute("SELECT t.trade_id, count(f.seq) FROM trades t JOIN fills f ON f.symbol = t.symbol "
                           "GROUP BY t.trade_id").fetchall()
    finally:
        con.close()
    assert rows == [("BTC-1", 3)]


def test_an_old_schema_journal_is_projected_through_the_upcaster(tmp_path):
    import shutil
    from pathlib import Path

    golden = Path(__file__).parent / "data" / "journal_v1"
    if not golden.is_dir():
        pytest.skip("no v1 golden journal")
    journal = tmp_path / "v1"
    shutil.copytree(golden, journal)  # never write a projection into the repo's fixtures
    assert rows(journal, "SELECT DISTINCT v FROM events") == [[1]]
    stops = rows(journal, "SELECT reason, stop_price FROM stops ORDER BY seq")  # v1 stop_updated(price)
    assert [r[0] for r in stops] == ["initial", "breakeven"] and all(r[1] > 0 for r in stops)
    assert rows(journal, "SELECT DISTINCT fee_asset FROM fills") == [["USDT"]]  # v1 fills had no fee_asset
