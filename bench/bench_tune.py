"""Benchmark `bot tune`'s trials: trials/s in 1 process, in 2 local worker processes, on a 2-worker LocalCluster.

The same batch of trials (a grid of N points, train window of --days before the last 90
days of the real 1h candles, both symbols) runs through each executor of `cli.tune_exec`; the timer covers
what a `bot tune` run pays for its trials: starting the local pool, or connecting to
the (already running) dask cluster and scattering the candles, plus every trial. Wall
time is shown with the CPU time spent (this process + the pool's or the cluster's
workers) and the machine's load average, because the 2 cores may be shared. The three runs must give identical
metrics; the bench says so.

    python bench/bench_tune.py [--data ../shared/data/ohlcv] [--days 300] [--trials 8] [--repeat 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cli.run_options import load_run_config  # noqa: E402
from cli.tune_exec import TrialBatch, run_dask, run_local  # noqa: E402
from cli.tune_space import grid_trials  # noqa: E402
from cli.tune_trial import encode_candles  # noqa: E402
from cli.tune_window import split_windows, window_candles  # noqa: E402
from journal.errors import BadInput  # noqa: E402

SYMBOLS = ("BTC/USDT", "ETH/USDT")


def default_data() -> Path:
    env = os.environ.get("SHARED_OHLCV_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data" / "ohlcv"


def make_batch(data: Path, days: int, trials: int) -> tuple[TrialBatch, int]:
    """`trials` grid points (donchian_len 10.. step 5, two atr_stop_k) on the train window; (batch, bars)."""
    windows = split_windows(data, SYMBOLS, "1h", days, 90)
    candles = window_candles(data, SYMBOLS, "1h", windows.train_start, windows.oos_start)
    grid = {"donchian_len": tuple(10 + 5 * i for i in range((trials + 1) // 2)), "atr_stop_k": (1.2, 2.0)}
    base = load_run_config(None, "1h", use_env=False).params
    import msgspec

    params = {t.index: msgspec.structs.replace(base, **t.values) for t in grid_trials(grid)[:trials]}
    return TrialBatch(params=params, blob=encode_candles(candles), symbols=SYMBOLS, timeframe="1h"), len(candles)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the local pool's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def own_cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def timed(name: str, run, repeat: int, cpu=cpu_seconds) -> tuple[dict, dict]:
    """Best (least wall time) of `repeat` runs: the one least disturbed by other load."""
    best: dict | None = None
    for _ in range(repeat):
        results: dict = {}
        load = os.getloadavg()[0]
        cpu0, t0 = cpu(), time.perf_counter()
        run(lambda index, metrics: results.__setitem__(index, metrics))
        wall, used = time.perf_counter() - t0, cpu() - cpu0
        row = {"executor": name, "trials": len(results), "wall_s": round(wall, 3),
               "trials_per_s": round(len(results) / wall, 3), "cpu_s": round(used, 3),
               "load_avg_1m": round(load, 2)}
        if best is None or row["wall_s"] < best["wall_s"]:
            best = row
    assert best is not None
    return best, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per executor")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.data / "1h").is_dir():
        sys.exit(f"bench_tune: no candles under {args.data}/1h (pass --data)")
    try:
        batch, bars = make_batch(args.data, args.days, args.trials)
    except BadInput as exc:
        sys.exit(f"bench_tune: {exc}")
    rows, outcomes = [], []
    for name, run in (("1 process", lambda done: run_local(batch, 1, done)),
                      ("2 local processes", lambda done: run_local(batch, 2, done))):
        row, result = timed(name, run, args.repeat)
        rows.append(row)
        outcomes.append(result)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster, Client(cluster.scheduler_address) as probe:
        address = cluster.scheduler_address

        def cluster_cpu() -> float:  # this process + every dask worker process
            return cpu_seconds() + sum(probe.run(own_cpu_seconds).values())

        row, result = timed("dask LocalCluster, 2 workers", lambda done: run_dask(batch, address, done), args.repeat,
                            cpu=cluster_cpu)
        rows.append(row)
        outcomes.append(result)
    base = rows[0]["trials_per_s"]
    for row in rows:
        row["speedup_vs_1"] = round(row["trials_per_s"] / base, 2) if base else None
    doc = {"bars_per_trial": bars, "days": args.days, "trials": len(batch.params), "cpus": os.cpu_count(),
           "machine": f"{cpu_model()}, Python {platform.python_version()}",
           "identical_results": all(o == outcomes[0] for o in outcomes), "runs": rows}
    if args.json:
        print(json.dumps(doc))
        return
    print(f"{doc['trials']} trials x {bars} bars ({args.days} train days, {', '.join(SYMBOLS)} 1h), "
          f"{doc['cpus']} CPUs, {doc['machine']}")
    print(f"{'executor':32} {'wall s':>8} {'trials/s':>9} {'speedup':>8} {'CPU s':>7} {'load':>5}")
    for r in rows:
        print(f"{r['executor']:32} {r['wall_s']:8.2f} {r['trials_per_s']:9.2f} {r['speedup_vs_1']:8.2f} "
              f"{r['cpu_s']:7.2f} {r['load_avg_1m']:5.2f}")
    print(f"identical results across executors: {doc['identical_results']}")


if __name__ == "__main__":
    main()
