"""Benchmark of the DuckDB read side over a large journal (default 1,000,000 events).

    python bench/bench_sql.py [--events N] [--journal DIR] [--keep] [--json]

Writes a realistic journal (2 symbols: candles, equity marks, signals, orders, fills,
stop moves, round trips) with JournalWriter, then measures: the first projection build,
a `trades` aggregate after it (in process, and end to end through the `journal sql`
console script, interpreter start included), and an incremental catch-up of 10,000 new
events. Target (issue 5): the trades aggregate answers in <= 1 s after the first build.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from journal.events import (CandleClosed, EmergencyAction, EntryPlanned, EquityMarked,  # noqa: E402
                            ErrorObserved, KillSwitchTripped, OrderAccepted, OrderCanceled, OrderCancelRequested,
                            OrderFilled, OrderSubmitted, PositionClosed, SessionStarted, SignalDetected,
                            SignalFiltered, StopMoved)
from journal.writer import JournalWriter  # noqa: E402
from projections.audit import kill_switch_audit  # noqa: E402
from projections.db import connect_with_stats  # noqa: E402

H = 3_600_000
SYMBOLS = ("BTC/USDT", "ETH/USDT")
TRADES_SQL = ("SELECT symbol, side, count(*) AS trades, sum(pnl) AS pnl, avg(pnl) AS avg_pnl, "
              "sum(pnl > 0)::DOUBLE / count(*) AS win_rate, sum(fees) AS fees FROM trades GROUP BY ALL ORDER BY ALL")


def trade_events(symbol: str, bar: int, n: int, price: float) -> list:
    """One round trip: signal, plan, entry, initial stop, three trailing moves, stop exit."""
    ts, cid = bar * H, f"{symbol[:3]}-{n}"
    side, qty, stop = ("long", 0.5, price - 30.0) if n % 2 else ("short", 0.5, price + 30.0)
    buy, sell = ("buy", "sell") if side == "long" else ("sell", "buy")
    events = [
        SignalDetected(ts=ts, symbol=symbol, side=side, close=price, channel_high=price - 1, channel_low=price - 60,
                       atr=12.0),
        EntryPlanned(ts=ts, symbol=symbol, side=side, qty=qty, ref_price=price, stop_price=stop, atr=12.0,
                     risk_amount=15.0, notional=qty * price, equity=10_000.0),
        OrderSubmitted(ts=ts, client_id=f"{cid}-e", symbol=symbol, side=buy, order_kind="market", qty=qty,
                       purpose="entry"),
        OrderAccepted(ts=ts, client_id=f"{cid}-e", symbol=symbol),
        OrderFilled(ts=ts + H, client_id=f"{cid}-e", symbol=symbol, fill_id=f"{cid}-f1", side=buy, qty=qty,
                    price=price, fee=qty * price * 0.0005, purpose="entry"),
        StopMoved(ts=ts, symbol=symbol, side=side, stop_price=stop, reason="initial"),
        OrderSubmitted(ts=ts + H, client_id=f"{cid}-s0", symbol=symbol, side=sell, order_kind="stop_market",
                       qty=qty, purpose="stop", stop_price=stop, reduce_only=True),
        OrderAccepted(ts=ts + H, client_id=f"{cid}-s0", symbol=symbol),
    ]
    for k in range(1, 4):
        new_stop = stop + (5.0 * k if side == "long" else -5.0 * k)
        events += [
            StopMoved(ts=ts + k * H, symbol=symbol, side=side, stop_price=new_stop, reason="trail", prev_stop=stop),
            OrderCancelRequested(ts=ts + k * H, client_id=f"{cid}-s{k - 1}", symbol=symbol),
            OrderCanceled(ts=ts + k * H, client_id=f"{cid}-s{k - 1}", symbol=symbol),
            OrderSubmitted(ts=ts + k * H, client_id=f"{cid}-s{k}", symbol=symbol, side=sell,
                           order_kind="stop_market", qty=qty, purpose="stop", stop_price=new_stop, reduce_only=True),
        ]
    exit_price = stop + (15.0 if side == "long" else -15.0)
    pnl = (exit_price - price) * qty * (1 if side == "long" else -1) - qty * (price + exit_price) * 0.0005
    events += [
        OrderFilled(ts=ts + 20 * H, client_id=f"{cid}-s3", symbol=symbol, fill_id=f"{cid}-f2", side=sell, qty=qty,
                    price=exit_price, fee=qty * exit_price * 0.0005, purpose="stop"),
        PositionClosed(ts=ts + 20 * H, symbol=symbol, side=side, trade_id=cid, qty=qty, entry_ts=ts + H,
                       entry_price=price, exit_price=exit_price, pnl=pnl, fees=qty * (price + exit_price) * 0.0005,
                       reason="trail"),
    ]
    return events


def generate(total: int):
    """Yield batches of events (one bar for both symbols each) until `total` events."""
    yield [SessionStarted(ts=0, run_id="bench", mode="backtest", version="bench", config_digest="0",
                          symbols=SYMBOLS)]
    count, bar, trades = 1, 0, 0
    while count < total:
        batch: list = []
        for j, symbol in enumerate(SYMBOLS):
            price = 20_000.0 + 1_000.0 * j + (bar % 500)
            batch.append(CandleClosed(ts=bar * H, symbol=symbol, timeframe="1h", open=price - 5, high=price + 10,
                                      low=price - 12, close=price, volume=100.0 + bar % 7))
            if (bar + 20 * j) % 40 == 0:
                trades += 1
                batch += trade_events(symbol, bar, trades, price)
            elif bar % 97 == 0:
                batch.append(SignalFiltered(ts=bar * H, symbol=symbol, side="long", reason="funding_window",
                                            close=price, channel_high=price - 1, channel_low=price - 60, atr=12.0))
        batch.append(EquityMarked(ts=bar * H, equity=10_000.0 + (bar % 300), realized=0.0, unrealized=0.0))
        batch = batch[: total - count]
        count += len(batch)
        bar += 1
        yield batch


def write(path: Path, total: int) -> float:
    start = time.perf_counter()
    with JournalWriter.open(path, wall_clock=lambda: 1_700_000_000_000) as writer:
        pending: list = []
        for batch in generate(total):
            pending += batch
            if len(pending) >= 20_000:
                writer.append(pending, durable=False)
                pending = []
        if pending:
            writer.append(pending, durable=False)
    return time.perf_counter() - start


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def measure(journal: Path, events: int) -> dict:
    cpu_start = time.process_time()
    (con, first, in_memory), build_s = timed(lambda: connect_with_stats(journal))
    build_cpu_s = time.process_time() - cpu_start
    n_events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    n_trades = con.execute("SELECT count(*) FROM trades").fetchone()[0]
    _, warm_query_s = timed(lambda: con.execute(TRADES_SQL).fetchall())
    con.close()

    def reconnect_and_query():
        c, _, _ = connect_with_stats(journal, read_only_query=True)
        rows = c.execute(TRADES_SQL).fetchall()
        c.close()
        return rows

    cpu_start = time.process_time()
    _, connect_query_s = timed(reconnect_and_query)
    connect_query_cpu_s = time.process_time() - cpu_start
    cli = [str(Path(sys.executable).with_name("journal")), "sql", str(journal), TRADES_SQL, "--format", "csv"]
    cli_run, cli_s = timed(lambda: subprocess.run(cli, capture_output=True, text=True))
    if cli_run.returncode != 0:
        raise SystemExit(f"journal sql failed: {cli_run.stderr}")
    _, import_s = timed(lambda: subprocess.run([sys.executable, "-c", "import cli.sql_cmds"], check=True))
    _, write_more_s = timed(lambda: _append(journal, 10_000))
    (con, inc, _), inc_s = timed(lambda: connect_with_stats(journal))
    con.close()
    _append_trip(journal)

    def audit():
        c, _, _ = connect_with_stats(journal, read_only_query=True)
        trips = kill_switch_audit(c)
        c.close()
        return trips

    trips, audit_s = timed(audit)
    assert len(trips) == 1 and trips[0]["time_to_flat_or_protected_ms"] == 0
    return {
        "events": n_events, "trades": n_trades, "in_memory_fallback": in_memory,
        "first_build_s": round(build_s, 3), "first_build_cpu_s": round(build_cpu_s, 3),
        "first_build_eps": round(first.applied / build_s),
        "trades_query_s": round(warm_query_s, 4),
        "connect_and_trades_query_s": round(connect_query_s, 4),
        "connect_and_trades_query_cpu_s": round(connect_query_cpu_s, 4),
        "journal_sql_cli_s": round(cli_s, 3), "python_import_s": round(import_s, 3),
        "incremental_events": inc.applied, "incremental_catch_up_s": round(inc_s, 3),
        "kill_switch_audit_s": round(audit_s, 3),
    }


def _append(journal: Path, n: int) -> None:
    with JournalWriter.open(journal, wall_clock=lambda: 1_700_000_000_000) as writer:
        base = 10_000_000
        writer.append([CandleClosed(ts=(base + i) * H, symbol="BTC/USDT", timeframe="1h", open=1.0, high=2.0,
                                    low=0.5, close=1.5, volume=1.0) for i in range(n)], durable=False)


def _append_trip(journal: Path) -> None:
    """An error burst, a trip and its emergency actions at the end of the journal."""
    ts = 20_000_000 * H
    with JournalWriter.open(journal, wall_clock=lambda: 1_700_000_000_000) as writer:
        first = writer.last_seq + 1
        writer.append([ErrorObserved(ts=ts + k, reason="network", message="timeout") for k in range(5)] + [
            KillSwitchTripped(ts=ts + 5, reason="error_burst", error_seqs=tuple(range(first, first + 5)),
                              window_sec=300, max_errors=5),
            EmergencyAction(ts=ts + 60, policy="protect_only", action="block_entries", outcome="done"),
        ], durable=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--journal", type=Path, help="Where to write the journal (default: a temp dir).")
    parser.add_argument("--keep", action="store_true", help="Keep the journal afterwards.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_sql_"))
    journal = args.journal or root / "journal"
    if journal.exists():
        raise SystemExit(f"{journal}: exists; give a new directory")
    try:
        write_s = write(journal, args.events)
        figures = {"write_s": round(write_s, 3), **measure(journal, args.events)}
    finally:
        if not args.keep:
            shutil.rmtree(journal, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
        return
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    verdict = "OK" if figures["connect_and_trades_query_s"] <= 1.0 else "SLOWER THAN TARGET"
    print(f"trades aggregate after first build: {figures['connect_and_trades_query_s']} s (target <= 1 s): {verdict}")


if __name__ == "__main__":
    main()
