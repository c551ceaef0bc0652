"""Decision latency of the paper-live loop: from the moment a closed candle is available
to each order handed to the exchange, including the fsync that makes its intent durable.

    python bench/bench_paper_latency.py [--data tests/data/ohlcv] [--json]

Runs `bot live --exchange paper --speed max`'s wiring in-process (durable journal, paper
venue with its state file) and prints p50/p99/max over every order, beside the raw
write+fdatasync latency of the same disk (the physical floor of a durable decision).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cli.bootstrap import RunSpec, paper_runtime  # noqa: E402
from cli.loop import Stopwatch  # noqa: E402
from exchange.ohlcv import load_candles  # noqa: E402
from machine.params import Params  # noqa: E402

SYMBOLS = ("BTC/USDT", "ETH/USDT")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def raw_fsync_ms(directory: Path, n: int = 200) -> float:
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        started = time.perf_counter()
        for _ in range(n):
            os.write(fd, b"x" * 256)
            os.fdatasync(fd)
        return (time.perf_counter() - started) * 1000 / n
    finally:
        os.close(fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO / "tests" / "data" / "ohlcv"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    params = Params()
    candles = load_candles(Path(args.data), SYMBOLS, params.timeframe)
    with tempfile.TemporaryDirectory(dir=REPO / "data" if (REPO / "data").is_dir() else None) as tmp:
        spec = RunSpec(mode="paper", journal_dir=Path(tmp) / "journal", params=params, symbols=SYMBOLS,
                       timeframe=params.timeframe)
        runtime = paper_runtime(spec, session_ts=candles[0].ts)
        stopwatch = Stopwatch()
        runtime.loop.on_order_sent = stopwatch.order_sent
        started = time.perf_counter()
        for candle in candles:
            stopwatch.candle_available()
            runtime.loop.feed(candle)
        runtime.close()
        seconds = time.perf_counter() - started
        floor = raw_fsync_ms(Path(tmp))
    samples = stopwatch.samples_ms
    result = {
        "bars": len(candles), "orders": len(samples), "seconds": round(seconds, 3),
        "latency_ms_p50": round(statistics.median(samples), 3), "latency_ms_p99": round(percentile(samples, 0.99), 3),
        "latency_ms_max": round(max(samples), 3), "raw_fdatasync_ms": round(floor, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"paper-live decision latency over {result['orders']} orders ({result['bars']} bars, {seconds:.1f} s):")
        print(f"  p50 {result['latency_ms_p50']} ms, p99 {result['latency_ms_p99']} ms, max {result['latency_ms_max']} ms")
        print(f"  raw write+fdatasync on this disk: {result['raw_fdatasync_ms']} ms "
              f"(load average {result['load_average_1m']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
