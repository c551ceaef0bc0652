"""`bot live --exchange binance`: the shared run loop on Binance USDⓈ-M through ccxt.

Same loop object as backtest and paper (`cli.loop.RunLoop`, wired by
`cli.bootstrap.assemble`); only the Exchange (the ccxt adapter) and the Clock (wall
time) differ. The base URL comes from `binance_base_url` / `BINANCE_BASE_URL`, so the
same command trades against `bot exchange-sim` in tests, demos and the fault soak.

Start-up is recovery: the journal's torn tail is cut, state is rebuilt by replay, the
venue is observed and reconciled. A fresh journal first records the `lookback` closed
bars as warm-up candles (they prime the indicators; the core never trades on them).
Then, every `poll_sec` on a fixed grid (no drift from slow iterations): operator
requests, newly closed bars (each through the exchange and the core, durable before
any order leaves), equity, funding and clock drift.

Safety (runbook, `cli.live_safety`): a kill-switch trip ends the session with exit 3
after its alert; a restart with SAFE_RESTART=true clears it. When the daily-drawdown
policy asks for it (AUTO_TESTNET_ON_DD), the live session ends, the live venue is
checked for orders of ours still resting, and a new session starts on testnet in the
sibling journal `<journal>-testnet` (its SessionStarted records where it came from).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Callable

import msgspec

from cli import control
from cli.bootstrap import RunSpec, app_version, assemble
from cli.clock import Clock, RandomIds, WallClock
from cli.live_safety import (
    SafetyWatch, live_alerts, live_orders_left, safe_restart, secure_stops, testnet_config,
)
from cli.logs import configure_logging, log_startup_banner
from cli.loop import Stopwatch
from cli.run_options import REPO_ROOT
from exchange.binance import BinanceExchange
from exchange.binance_errors import VenueError
from journal.errors import BadInput
from journal.events import CandleClosed

log = logging.getLogger("donchian_bot")

KILL_SWITCH_EXIT = 3
"""Exit code after a kill-switch trip (the runbook: abort, stops in place, investigate)."""
CLOCK_CHECK_EVERY = 20
"""Measure exchange clock drift every N polls (and at start)."""


def make_exchange(config, now_ms: Callable[[], int] | None = None) -> BinanceExchange:
    base_url = config.binance_base_url or os.environ.get("BINANCE_BASE_URL") or None
    if not config.binance_key or not config.binance_secret:
        raise BadInput("binance_key/binance_secret (env BINANCE_KEY/BINANCE_SECRET): required for --exchange binance")
    return BinanceExchange(base_url=base_url, key=config.binance_key, secret=config.binance_secret,
                           testnet=config.testnet, drift_alarm_ms=config.kill_switch_max_drift_ms, now_ms=now_ms)


def warmup_candles(exchange: BinanceExchange, symbols, timeframe: str, lookback: int, ts: int,
                   skip: dict[str, int]) -> list[CandleClosed]:
    """The last `lookback` closed bars of each symbol not already in the journal."""
    out: list[CandleClosed] = []
    for symbol in symbols:
        if symbol in skip:
            continue
        for row in exchange.ohlcv_rows(symbol, timeframe, limit=lookback, ts=ts):
            out.append(CandleClosed(ts=int(row[0]), symbol=symbol, timeframe=timeframe, open=row[1], high=row[2],
                                    low=row[3], close=row[4], volume=row[5], warmup=True))
    out.sort(key=lambda c: (c.ts, c.symbol))
    return out


def run(run_config, journal: Path | None, metrics_port: int | None, as_json: bool,
        clock: Clock | None = None) -> None:
    clock = clock or WallClock()
    config = run_config.config
    configure_logging(config.log_level, secrets=[s for s in (config.binance_key, config.binance_secret, config.mcp_control_token,
                                                             config.slack_webhook_url) if s])
    switched = run_session(run_config, journal, metrics_port, as_json, clock)
    if switched is not None:  # AUTO_TESTNET_ON_DD: the same bot, now on testnet, in its own journal
        config = testnet_config(run_config.config)
        settings = {**run_config.settings, **config.public_settings(), "params": msgspec.to_builtins(config.params),
                    "switched_from": switched}
        testnet_run = dataclasses.replace(run_config, config=config, params=config.params, settings=settings,
                                          digest=config.digest())
        live_dir = Path(switched["journal"])
        run_session(testnet_run, live_dir.with_name(live_dir.name + "-testnet"), None, as_json, clock)


def run_session(run_config, journal: Path | None, metrics_port: int | None, as_json: bool,
                clock: Clock) -> dict | None:
    """One exchange session; returns what the testnet switch needs when the core asked for it."""
    from cli.live_cmd import metrics_projector
    from cli.stop_flag import StopFlag

    config = run_config.config
    params = run_config.params
    symbols = tuple(config.universe)
    mode = "testnet" if config.testnet else "live"
    exchange = make_exchange(config, clock.now_ms)  # errors stamped on the clock the polls use
    journal_dir = journal if journal is not None else REPO_ROOT / "data" / mode / "journal"
    settings = {**run_config.settings, "exchange": "binance", "endpoint": exchange.endpoint}
    spec = RunSpec(mode=mode, journal_dir=journal_dir, params=params, symbols=symbols, timeframe=params.timeframe,
                   settings=settings, config_digest=run_config.digest)
    watch = SafetyWatch(switch_ends_session=mode == "live")
    stop = StopFlag()
    stop.install()
    port = metrics_port if metrics_port is not None else config.metrics_port  # the seed: /metrics at boot
    alerts = live_alerts(config, clock.now_ms)
    metrics = metrics_projector(port, run_config, journal_dir, account=mode, addr="0.0.0.0")
    observers = (watch, alerts.feed, *(() if metrics is None else (metrics.apply_live,)))
    log_startup_banner(log, mode, app_version(), symbols, safe=config.safe_console_banner)
    try:
        runtime = assemble(spec, exchange, clock, RandomIds(), durable=True, session_ts=clock.now_ms(),
                           observers=observers)
    except VenueError as exc:
        alerts.fatal(f"{exchange.endpoint}: cannot start trading ({exc})", key="fatal:startup")
        raise BadInput(f"{exchange.endpoint}: cannot start trading ({exc})") from None
    stopwatch = Stopwatch()
    loop = runtime.loop
    loop.on_order_sent = stopwatch.order_sent
    market = VenueBarClock(params.bar_ms)
    loop.market_now = market.now_ms  # bars fed late (catch-up after downtime) send no entries for the past
    last = dict(runtime.resume_after)
    polls = 0
    ticking = alerts.start_thread()  # the time-based alert rules (heartbeat, missing heartbeat)
    try:
        now = clock.now_ms()
        if safe_restart(runtime, config.safe_restart, now):
            log.warning("safe restart: kill switch halt and error counters cleared", extra={"event": "safe_restart"})
        loop.process(exchange.observe_clock(now))
        loop.process(exchange.observe_equity(now))  # the wallet before the first bar: its anchor and sizing
        warm = warmup_candles(exchange, symbols, params.timeframe, config.lookback, now, last)
        loop.process(warm)
        for candle in warm:
            last[candle.symbol] = candle.ts
        loop.flush(durable=True)
        next_poll = clock.now_ms()
        while not stop.is_set() and not watch.stop_session:
            now = clock.now_ms()
            loop.process([msgspec.structs.replace(e, ts=now) for e in control.drain_requests(journal_dir)])
            trade_new_bars(exchange, loop, symbols, params.timeframe, last, market, now,
                           stopped=lambda: watch.stop_session, on_candle=stopwatch.candle_available)
            polls += 1
            alerts.note_loop_heartbeat()
            if metrics is not None:  # every poll, quiet or not: /metrics and `bot health` see a live loop
                metrics.mark_heartbeat(clock.now_ms() / 1000)
                metrics.observe_loop_latency((clock.now_ms() - now) / 1000)
            if polls % CLOCK_CHECK_EVERY == 0:
                loop.process(exchange.observe_clock(now))
            loop.flush(durable=True)
            next_poll += int(config.poll_sec * 1000)
            if next_poll < clock.now_ms():  # fell behind: skip missed ticks, keep the grid
                missed = (clock.now_ms() - next_poll) // int(config.poll_sec * 1000) + 1
                next_poll += missed * int(config.poll_sec * 1000)
            while not stop.is_set() and clock.now_ms() < next_poll:
                clock.sleep_until(min(next_poll, clock.now_ms() + 200))
        if watch.trip is not None and not secure_stops(loop, exchange, symbols, journal_dir, clock.now_ms()):
            log.error("kill switch: venue unreachable, stops re-checked at the next start",
                      extra={"event": "kill_switch_stops_unverified"})
    finally:
        ticking.set()
        runtime.close()
    switch = None
    if watch.switch is not None and mode == "live" and watch.trip is None:
        left = live_orders_left(exchange, symbols, runtime.loop.state.prefix)
        switch = {"journal": str(journal_dir), "run_id": runtime.session.run_id, "live_orders": left}
        log.critical("AUTO_TESTNET_ON_DD: switching to testnet", extra={"event": "auto_testnet_on_dd", **left})
    finish(runtime, stopwatch, watch, journal_dir, as_json)
    return switch


def trade_new_bars(exchange: BinanceExchange, loop, symbols, timeframe: str, last: dict[str, int],
                   market: "VenueBarClock", now: int, stopped: Callable[[], bool] = lambda: False,
                   on_candle: Callable[[], None] | None = None) -> int:
    """One poll: every newly closed bar through the loop, in order (a catch-up after downtime
    feeds many), each after its funding observation, then the wallet. Returns the bars fed."""
    fresh = poll_closed(exchange, loop, symbols, timeframe, last, market.bar_ms, now)
    market.saw(fresh)
    fed = 0
    for candle in fresh:
        if stopped():
            break
        if on_candle is not None:
            on_candle()
        loop.process(exchange.observe_funding(candle.symbol, now))
        loop.feed(candle)
        last[candle.symbol] = candle.ts
        fed += 1
    if fresh:
        loop.process(exchange.observe_equity(now))
    return fed


class VenueBarClock:
    """The market's time as the venue's candles tell it: the close of the newest closed bar polled.

    After downtime one poll returns every missed bar and the loop feeds them in order; an entry the
    core decides on any but the newest is stale (`cli.loop.is_stale_entry`) and is recorded as
    canceled instead of opening a position at today's prices. The venue's bars, not the local
    clock, decide: they are what the decisions were made on, whatever the host's clock says."""

    def __init__(self, bar_ms: int) -> None:
        self.bar_ms = bar_ms
        self.close_ms: int | None = None

    def saw(self, candles: list[CandleClosed]) -> None:
        if candles:
            newest = max(c.ts for c in candles) + self.bar_ms
            self.close_ms = newest if self.close_ms is None else max(self.close_ms, newest)

    def now_ms(self) -> int | None:
        return self.close_ms


def poll_closed(exchange: BinanceExchange, loop, symbols, timeframe: str, last: dict[str, int], bar_ms: int,
                now: int) -> list[CandleClosed]:
    """Newly closed bars of every symbol, in (ts, symbol) order; venue errors are recorded."""
    fresh: list[CandleClosed] = []
    for symbol in symbols:
        since = last[symbol] + bar_ms if symbol in last else None
        answers = exchange.poll_candles(symbol, timeframe, since=since, ts=now) if since else []
        errors = [a for a in answers if not isinstance(a, CandleClosed)]
        if errors:
            loop.process(errors)
        fresh.extend(a for a in answers if isinstance(a, CandleClosed) and a.ts > last.get(symbol, -1))
    fresh.sort(key=lambda c: (c.ts, c.symbol))
    return fresh


def finish(runtime, stopwatch: Stopwatch, watch: SafetyWatch, journal_dir: Path, as_json: bool) -> None:
    figures = {"run_id": runtime.session.run_id, "journal": str(journal_dir), "restarted": runtime.restarted,
               **runtime.summary.as_dict()}
    if watch.trip is not None:
        trip = watch.trip
        figures["kill_switch"] = {"reason": trip.reason, "error_seqs": list(trip.error_seqs),
                                  "error_reasons": list(trip.error_reasons)}
        log.critical("kill switch activated", extra={"event": "kill_switch_trigger", "reason": trip.reason,
                                                     "errors": list(trip.error_reasons)})
    print(json.dumps(figures) if as_json else
          f"{runtime.session.mode} {figures['run_id']}: {figures['bars']} bars, {figures['trades']} trades, "
          f"pnl {figures['pnl']:+.2f}; journal: {journal_dir}")
    if watch.trip is not None:
        raise SystemExit(KILL_SWITCH_EXIT)
