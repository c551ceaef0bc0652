"""Benchmark `bot report` on a large journal (default 1,000,000 events).

The journal is `journal bench`'s realistic 2-symbol 1h event mix (candles, equity marks,
signals, plans, orders, fills, stops) plus a closed round trip (order, fill, position
closed) for every entry, written with the real JournalWriter. Then the real `bot report`
console script runs on it: cold (the DuckDB projection is built first), warm (projection
up to date), and warm with the Excel workbook and the CSV logs. Target: warm `--json`
<= 3 s for 1M events. Prints a table, or one JSON object with --json.

    python bench/bench_report.py [--events N] [--out DIR] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from journal.bench_events import bar_batch
from journal.events import Event, OrderFilled, OrderSubmitted, PositionClosed
from journal.writer import JournalWriter

BOT = Path(sys.executable).with_name("bot")
BASES = {"BTC/USDT": 37_000.0, "ETH/USDT": 2_050.0}


def _with_exits(bar: int, symbol: str, base: float, open_trades: dict[str, Event]) -> list[Event]:
    """bench_events' bar batch; a new entry first closes the symbol's previous one at this close."""
    batch = bar_batch(bar, symbol, base)
    fill = next((e for e in batch if isinstance(e, OrderFilled)), None)
    prev = open_trades.get(symbol)
    if fill is not None and prev is not None:
        close = batch[0].close  # type: ignore[attr-defined]
        cid = f"{prev.client_id}-exit"  # type: ignore[attr-defined]
        fee = prev.qty * close * 0.0005  # type: ignore[attr-defined]
        pnl = (close - prev.price) * prev.qty - prev.fee - fee  # type: ignore[attr-defined]
        batch[2:2] = [
            OrderSubmitted(ts=fill.ts, client_id=cid, symbol=symbol, side="sell", order_kind="market",
                           qty=prev.qty, purpose="exit", reduce_only=True),  # type: ignore[attr-defined]
            OrderFilled(ts=fill.ts, client_id=cid, symbol=symbol, fill_id=f"{cid}-1", side="sell", qty=prev.qty,
                        price=close, fee=fee, purpose="exit"),  # type: ignore[attr-defined]
            PositionClosed(ts=fill.ts, symbol=symbol, side="long", trade_id=prev.client_id, qty=prev.qty,
                           entry_ts=prev.ts, entry_price=prev.price, exit_price=close, pnl=pnl,
                           fees=prev.fee + fee, reason="trail"),  # type: ignore[attr-defined]
        ]
    if fill is not None:
        open_trades[symbol] = fill
    return batch


def write_journal(directory: Path, n_events: int) -> dict[str, int]:
    """Write exactly n_events events; return how many trades and equity marks it holds."""
    open_trades: dict[str, Event] = {}
    written = trades = marks = bar = 0
    with JournalWriter.open(directory) as writer:
        while written < n_events:
            chunk: list[Event] = []
            while written + len(chunk) < n_events and len(chunk) < 50_000:
                for symbol, base in BASES.items():
                    chunk += _with_exits(bar, symbol, base, open_trades)
                bar += 1
            chunk = chunk[: n_events - written]
            trades += sum(isinstance(e, PositionClosed) for e in chunk)
            marks += sum(type(e).__name__ == "EquityMarked" for e in chunk)
            writer.append(chunk, durable=False)
            written += len(chunk)
    return {"events": written, "trades": trades, "equity_marks": marks, "bars": bar}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(*argv: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run of the `bot` console script (CPU: unaffected by other load)."""
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run([str(BOT), *argv], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bot {' '.join(argv[:1])} failed: {done.stderr.strip()}")
    return elapsed, _children_cpu() - cpu


def timed_report(journal: Path, *extra: str) -> tuple[float, float]:
    return timed("report", "--journal", str(journal), "--json", *extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="keep the journal and outputs here (default: a temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="bench_report_"))
    journal = base / "journal"
    shutil.rmtree(journal, ignore_errors=True)
    t0 = time.perf_counter()
    shape = write_journal(journal, args.events)
    figures: dict[str, float | int] = {**shape, "write_journal_s": time.perf_counter() - t0}
    runs = {"bot_startup": timed("--help"), "report_cold": timed_report(journal),
            "report_warm": timed_report(journal),
            "report_warm_xlsx": timed_report(journal, "--xlsx", str(base / "report.xlsx")),
            "report_warm_xlsx_csv": timed_report(journal, "--xlsx", str(base / "report.xlsx"),
                                                 "--csv", str(base / "data"))}
    for name, (wall, cpu) in runs.items():
        figures[f"{name}_s"], figures[f"{name}_cpu_s"] = wall, cpu
    figures["load_avg_1m"] = os.getloadavg()[0]
    if args.out is None:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bot report on {shape['events']:,} events ({shape['trades']:,} trades, "
                        f"{shape['equity_marks']:,} equity marks)")
    table.add_column("run")
    table.add_column("wall s", justify="right")
    table.add_column("cpu s", justify="right")
    for name in runs:
        table.add_row(name, f"{figures[name + '_s']:.2f}", f"{figures[name + '_cpu_s']:.2f}")
    Console().print(table)
    print(f"journal written in {figures['write_journal_s']:.2f} s; load average {figures['load_avg_1m']:.1f} "
          f"on {os.cpu_count()} cores. Target: report_warm <= 3 s (bot_startup = interpreter + imports).")


if __name__ == "__main__":
    main()
