"""`bot live`: the run loop as if live. With no flags: paper trading on the demo candles
shipped in `tests/data/ohlcv` (no keys, no network), with a live status on a terminal.

Paper-live differs from a backtest only in its wiring (`cli.bootstrap.paper_runtime`):
wall clock pacing (`--speed N` x real time, or `max`), a durable journal (every order
intent fsync'd before the paper venue sees it), and a venue that keeps its own state
beside the journal, so a killed bot restarts with `--journal DIR` and carries on.
SIGINT/SIGTERM finish the current bar, flush, leave resting stops in place, exit 0.
"""
from __future__ import annotations

import json
import logging
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import msgspec
import typer

from cli import control
from cli.apps import bot_app
from cli.bootstrap import RunSpec, Runtime, paper_runtime
from cli.live_status import LiveStatus
from cli.loop import Stopwatch
from cli.paper_feed import paced, parse_speed
from cli.run_options import REPO_ROOT, RunConfig, default_data_dir, load_run_config
from cli.stop_flag import StopFlag
from exchange.candle_set import load_candle_set
from exchange.ohlcv import timeframe_ms
from journal.errors import BadInput
from journal.reader import read_records

DEFAULT_SPEED = "200000"
"""A 1h bar every 18 ms: the 1,000-bar demo plays in about 20 seconds."""


@bot_app.command("live", help="Trade: paper on the demo candles by default, or --exchange binance.")
def live(
    config: Optional[Path] = typer.Option(None, "--config", help="config JSON (else env / ./config.json)"),
    exchange: str = typer.Option("paper", "--exchange", help="paper | binance"),
    data: Optional[Path] = typer.Option(None, "--data", help="candles for paper: DIR/<tf>/<BASE>_<QUOTE>.*"),
    speed: str = typer.Option(DEFAULT_SPEED, "--speed", help="paper pacing: N x real time, or max"),
    journal: Optional[Path] = typer.Option(None, "--journal", help="journal dir (existing: restart)"),
    metrics_port: Optional[int] = typer.Option(None, "--metrics-port", min=0, max=65535, help="serve Prometheus /metrics"),
    as_json: bool = typer.Option(False, "--json", help="print the closing summary as JSON"),
) -> None:
    if exchange not in ("paper", "binance"):
        raise BadInput(f"--exchange {exchange!r}: expected paper or binance")
    run_config = load_run_config(config)
    if exchange == "binance":
        run_binance(run_config, journal, metrics_port, as_json)
        return
    pace = parse_speed(speed)
    params = run_config.params
    symbols = tuple(run_config.config.universe)
    # columns, events a chunk at a time: paper at --speed max over years of bars holds 50 bytes a bar
    candles = load_candle_set(data if data is not None else default_data_dir(), symbols, params.timeframe)
    if not candles:
        raise BadInput("no candles to trade")
    journal_dir = journal if journal is not None else default_paper_journal()
    settings = {**run_config.settings, "exchange": "paper", "speed": speed}
    spec = RunSpec(mode="paper", journal_dir=journal_dir, params=params, symbols=symbols,
                   timeframe=params.timeframe, settings=settings, config_digest=run_config.digest)
    stop = StopFlag()
    stop.install()
    runtime = paper_runtime(spec, session_ts=candles[0].ts,
                            observers=metrics_observers(metrics_port, run_config, journal_dir))
    stopwatch = Stopwatch()
    runtime.loop.on_order_sent = stopwatch.order_sent
    resume_after = runtime.resume_after
    remaining = (c for c in candles if c.ts > resume_after.get(c.symbol, -1))
    market_ts = runtime.session.ts
    try:
        with LiveStatus(f"paper {runtime.session.run_id}", runtime.loop, runtime.summary, symbols,
                        enabled=sys.stdout.isatty() and not as_json) as status:
            for candle in paced(remaining, runtime.clock, pace, timeframe_ms(params.timeframe), stop.is_set):
                handle_operator_requests(runtime, journal_dir, market_ts)
                stopwatch.candle_available()
                runtime.loop.feed(candle)
                market_ts = candle.ts
                if pace is not None:
                    runtime.loop.flush(durable=True)  # paced: every bar visible to `journal tail --follow`
                status.update()
            handle_operator_requests(runtime, journal_dir, market_ts)
    finally:
        runtime.close()
    report(runtime, stopwatch, stop, journal_dir, as_json)


def handle_operator_requests(runtime: Runtime, journal_dir: Path, market_ts: int) -> None:
    """`bot close` and friends, stamped with the paper market's time (its clock is the candles').
    A request file is marked done only once its event is durable in the journal."""
    for path, event in control.pending_requests(journal_dir):
        runtime.loop.process([msgspec.structs.replace(event, ts=market_ts)])
        runtime.loop.flush(durable=True)
        control.mark_done(path)


def default_paper_journal() -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return REPO_ROOT / "data" / "paper" / f"paper-{stamp}"


def metrics_observers(port: int | None, run_config: RunConfig, journal_dir: Path | None = None, *,
                      account: str = "paper", addr: str = "127.0.0.1") -> tuple:
    """Prometheus /metrics fed by every recorded event (the observer tuple for the loop)."""
    projector = metrics_projector(port, run_config, journal_dir, account=account, addr=addr)
    return () if projector is None else (projector.apply_live,)


def metrics_projector(port: int | None, run_config: RunConfig, journal_dir: Path | None = None, *,
                      account: str = "paper", addr: str = "127.0.0.1"):
    """The /metrics projector, primed by the journal (a restart first replays it), serving on `port`;
    None without a port. Its `apply_live` observes the loop's events as they are recorded; the live
    loop also marks its heartbeat and loop latency on it every poll.

    A port that cannot be bound is logged loudly and trading goes on without /metrics: losing the
    dashboard must never stop a bot that holds positions."""
    if port is None:
        return None
    from prometheus_client import CollectorRegistry

    from cli.metrics import MetricsProjector, start_metrics_server

    registry = CollectorRegistry()
    projector = MetricsProjector(registry, account=account, timeframe=run_config.params.timeframe,
                                 universe=run_config.config.universe)
    if journal_dir is not None and any(journal_dir.glob("*.seg")):
        projector.apply_all(read_records(journal_dir))
    try:
        start_metrics_server(port, registry, addr=addr)
    except OSError as exc:
        logging.getLogger("donchian_bot").error(
            "metrics endpoint not started", extra={"event": "metrics_unavailable", "port": port,
                                                   "error": exc.strerror})
        print(f"bot: warning: /metrics not served: {addr}:{port}: {exc.strerror}", file=sys.stderr)
        return None
    return projector


def report(runtime: Runtime, stopwatch: Stopwatch, stop: StopFlag, journal_dir: Path, as_json: bool) -> None:
    figures = {"run_id": runtime.session.run_id, "journal": str(journal_dir), "restarted": runtime.restarted,
               "stopped_by_signal": stop.signal, **runtime.summary.as_dict()}
    samples = sorted(stopwatch.samples_ms)
    if samples:
        figures["decision_latency_ms_p50"] = round(statistics.median(samples), 3)
        figures["decision_latency_ms_p99"] = round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3)
    if as_json:
        print(json.dumps(figures))
        return
    print(f"paper {figures['run_id']}: {figures['bars']} bars, {figures['trades']} trades, "
          f"pnl {figures['pnl']:+.2f}, win rate {figures['win_rate']:.1%}, "
          f"max drawdown {figures['max_drawdown']:.2%}, equity {figures['final_equity']:.2f}")
    print(f"journal: {journal_dir}   (journal sql {journal_dir} \"SELECT * FROM trades\")")


def run_binance(run_config: RunConfig, journal: Path | None, metrics_port: int | None, as_json: bool) -> None:
    """The live Binance loop is wired by `cli.live_binance` when present."""
    try:
        from cli.live_binance import run as run_live_binance  # type: ignore[import-not-found]
    except ImportError:
        raise BadInput("--exchange binance: the live Binance loop is not wired in this build; "
                       "use --exchange paper") from None
    run_live_binance(run_config, journal, metrics_port, as_json)
