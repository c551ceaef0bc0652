"""Benchmark of the decision core: evolve + decide over the real 1h candles.

First a reference run (machine.sim_venue) records the inputs a backtest would journal:
every candle plus the venue's answers (fills, accepts, cancels). The timed part then
replays exactly those inputs through `machine.decider.step` (evolve the input, decide,
evolve each decision), which is what `journal replay` and the run loop do per input,
without journal I/O. Printed beside a bare Python loop over the same inputs.

    python bench/bench_core.py [--data DIR] [--repeat N] [--json]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402
from journal import events as ev  # noqa: E402
from machine.decider import initial_state, step  # noqa: E402
from machine.params import Params  # noqa: E402
from machine.sim_venue import SimVenue, run_loop  # noqa: E402


def data_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("BASELINE_OHLCV_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "ohlcv"


def load_candles(folder: Path, timeframe: str = "1h") -> list[ev.CandleClosed]:
    bars = []
    files = sorted((folder / timeframe).glob("*.csv"))
    if not files:
        raise SystemExit(f"bench_core: no {timeframe} CSV candles under {folder}")
    for path in files:
        symbol = path.stem.replace("_", "/", 1)
        with path.open() as fh:
            for r in csv.DictReader(fh):
                bars.append(ev.CandleClosed(ts=int(r["timestamp"]), symbol=symbol, timeframe=timeframe,
                                            open=float(r["open"]), high=float(r["high"]), low=float(r["low"]),
                                            close=float(r["close"]), volume=float(r["volume"])))
    bars.sort(key=lambda c: (c.ts, c.symbol))
    return bars


def recorded_inputs(bars: list[ev.CandleClosed], params: Params) -> tuple[list[ev.Event], int]:
    session = ev.SessionStarted(ts=bars[0].ts, run_id="bench", mode="backtest", version="bench", config_digest="-")
    _, journal = run_loop(initial_state(params), params, [session, *bars], SimVenue(params))
    inputs = [e for e in journal if ev.is_input(e)]
    return inputs, len(journal) - len(inputs)


def time_replay(inputs: list[ev.Event], params: Params) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, decisions): CPU time is reported too because this
    machine's cores are shared and wall time then measures the neighbours as well."""
    state = initial_state(params)
    decided = 0
    start, cpu = time.perf_counter(), time.process_time()
    for event in inputs:
        state, decisions = step(state, event, params)
        decided += len(decisions)
    return time.perf_counter() - start, time.process_time() - cpu, decided


def time_bare_loop(inputs: list[ev.Event]) -> float:
    sink = 0
    start = time.perf_counter()
    for event in inputs:
        sink += event.ts & 1
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="OHLCV dir (default: $BASELINE_OHLCV_DIR or ../shared/data/ohlcv)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    params = Params()
    bars = load_candles(data_dir(args.data))
    inputs, recorded_decisions = recorded_inputs(bars, params)
    runs = [time_replay(inputs, params) for _ in range(args.repeat)]
    best = min(r[0] for r in runs)
    best_cpu = min(r[1] for r in runs)
    decided = runs[0][2]
    assert decided == recorded_decisions, "replay diverged from the recorded run"
    bare = min(time_bare_loop(inputs) for _ in range(args.repeat))
    result = {
        "bars": len(bars),
        "inputs": len(inputs),
        "decisions": decided,
        "seconds": round(best, 4),
        "bars_per_s": round(len(bars) / best),
        "inputs_per_s": round(len(inputs) / best),
        "us_per_bar": round(best / len(bars) * 1e6, 3),
        "cpu_bars_per_s": round(len(bars) / best_cpu),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "bare_loop_inputs_per_s": round(len(inputs) / bare),
        "target_bars_per_s": 500_000,
        "compiled_core": machine.COMPILED,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"core evolve+decide: {result['bars']} bars ({result['inputs']} inputs, {decided} decisions) "
          f"in {best:.3f}s = {result['bars_per_s']:,} bars/s wall ({result['us_per_bar']} us/bar), "
          f"{result['cpu_bars_per_s']:,} bars/s per CPU second (load avg {result['load_avg_1m']}; "
          f"{'compiled' if machine.COMPILED else 'interpreted'} core)")
    print(f"peer: bare Python loop over the same inputs = {result['bare_loop_inputs_per_s']:,} inputs/s; "
          f"target >= 500,000 bars/s")


if __name__ == "__main__":
    main()
