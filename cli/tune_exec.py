"""Where trials run: in this process, in local worker processes, or on a dask.distributed cluster.

Every executor runs the same function (`cli.tune_trial.run_trial`) on the same inputs and
hands each result to `on_done(index, metrics)` in this process as it finishes, so the
results are identical whichever runs them; only the finishing order differs, and the
ranking never depends on it. A Ctrl-C (KeyboardInterrupt) cancels the trials not yet
finished and propagates; everything passed to `on_done` before it is kept by the caller.
Local workers ignore SIGINT so the parent alone decides what an interrupt means.
"""
from __future__ import annotations

import multiprocessing
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable

from cli.tune_trial import run_trial
from journal.errors import BadInput
from machine.params import Params

OnDone = Callable[[int, dict[str, Any]], None]


@dataclass(frozen=True)
class TrialBatch:
    """The trials of one search over one window: per-trial params, shared candles."""

    params: dict[int, Params]  # trial index -> params
    blob: bytes  # msgpack candles (cli.tune_trial.encode_candles)
    symbols: tuple[str, ...]
    timeframe: str


def run_serial(batch: TrialBatch, on_done: OnDone) -> None:
    """In this process. A Ctrl-C is taken between trials: raised inside one, it can surface wrapped
    by a C library (DuckDB turns an interrupt in its Python callback into `duckdb.Error`, a
    traceback instead of exit 130), so the handler only notes it and the loop raises it."""
    interrupted: list[bool] = []
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True)) if in_main else None
    try:
        for index, params in batch.params.items():
            on_done(*run_trial(index, params, batch.blob, batch.symbols, batch.timeframe))
            if interrupted:
                raise KeyboardInterrupt
    finally:
        if in_main and previous is not None:  # None: a handler not set from Python, nothing to restore
            signal.signal(signal.SIGINT, previous)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(batch: TrialBatch, workers: int, on_done: OnDone) -> None:
    """`workers` processes (fork where the OS has it: no re-import per worker); 1 = this process."""
    if workers < 1:
        raise BadInput(f"--workers {workers}: must be at least 1")
    if workers == 1:
        run_serial(batch, on_done)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(max_workers=min(workers, len(batch.params)) or 1, mp_context=context,
                               initializer=_ignore_sigint)
    pending: set[Future] = set()
    try:
        pending = {pool.submit(run_trial, i, p, batch.blob, batch.symbols, batch.timeframe)
                   for i, p in batch.params.items()}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_done(*future.result())
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=not pending, cancel_futures=True)


def run_dask(batch: TrialBatch, address: str, on_done: OnDone) -> None:
    """The trials as dask tasks; the candles are scattered to every worker once."""
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BadInput(f"--dask {address}: cannot reach a dask scheduler ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from None
    futures: list[Any] = []
    try:
        blob = client.scatter(batch.blob, broadcast=True)
        futures = [client.submit(run_trial, i, p, blob, batch.symbols, batch.timeframe, pure=False)
                   for i, p in batch.params.items()]
        for future in as_completed(futures):
            on_done(*future.result())
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            client.cancel(unfinished)
        client.close()


def run_trials(batch: TrialBatch, on_done: OnDone, workers: int = 1, dask_address: str | None = None) -> None:
    if dask_address:
        run_dask(batch, dask_address, on_done)
    else:
        run_local(batch, workers, on_done)
