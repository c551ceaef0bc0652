"""Fault soak: `bot live --exchange binance` against a fault-injecting exchange-sim until N orders were sent.

    python bench/soak.py --orders 500 --faults "http_5xx=0.03,rate_limit=0.02,..." --journal DIR [--json]

The sim is the server `bot exchange-sim` runs (`exchange.sim.boot.build_server`), hosted in this process
so the harness can step its frozen market clock one bar at a time and inspect the venue between bars
without its own requests meeting faults. The bot is the real console script in a subprocess, talking
to the sim over HTTP through ccxt. Faults are off while the bot warms up (start-up is bad input when the
venue cannot be reached), then on until the end.

Per bar, once the bot has recorded the bar and finished its poll, the venue is checked: every open
position must have an open reduce-only STOP_MARKET on the closing side covering its quantity, else it
counts as an unprotected bar close. Duplicates are placement attempts of an already-used client id that
reached the venue. A kill-switch trip (exit 3) is counted and the bot restarted with SAFE_RESTART=true,
as the runbook says. At the end: `journal verify` and `journal replay` on the journal.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exchange.sim.boot import build_server  # noqa: E402
from exchange.sim.faults import FaultSpec  # noqa: E402
from journal.events import CandleClosed, ClockObserved, EquityObserved, ErrorObserved, OrderSubmitted  # noqa: E402
from journal.reader import read_records  # noqa: E402

BIN = Path(sys.executable).parent
KEY, SECRET = "soak-key", "soak-secret"
DEFAULT_FAULTS = ("http_5xx=0.06,rate_limit=0.03,ban=0.01,nonce=0.02,timeout_after_accept=0.03,drop_response=0.04,"
                  "partial_fill=0.1,seed=7,hold_ms=10500")
"""About 10 % of all requests meet a fault; order placements meet timeouts, lost answers, partial fills on top."""
DUST = 1e-9
LOOKBACK = 60
ACTIVE = {"ATR_TRAIL_K": "1.0"}
"""A tight trail moves the stop (a new stop order + a cancel) on most bars in a position, so orders flow
through the faulty venue several times faster than with the default 2.5 ATR trail."""


def default_data() -> Path:
    env = os.environ.get("BASELINE_OHLCV_DIR")
    return Path(env) if env else (ROOT.parent / "shared" / "data" / "ohlcv")


class Journal:
    """Incremental counts over the bot's journal (only records after the last one seen are read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.candles = self.orders = self.records = self.warm = 0
        self.last: type | None = None

    def scan(self) -> tuple[int, int, type | None, int]:
        """(live candles, orders sent, type of the last record, records); -1 candles while warming up."""
        try:
            for record in read_records(self.path, self.records + 1):
                self.records = record.seq
                event = record.event
                kind = type(event)
                if kind is CandleClosed:
                    if event.warmup:
                        self.warm += 1
                    else:
                        self.candles += 1
                elif kind is OrderSubmitted:
                    self.orders += 1
                self.last = kind
        except Exception:  # being created or mid-write: read on from here next time
            pass
        candles = self.candles if self.warm >= 2 * LOOKBACK else -1
        return candles, self.orders, self.last, self.records


def unprotected(sim) -> tuple[int, int]:
    """(open positions, those without a covering reduce-only stop) at the venue right now."""
    with sim.lock:
        sim.venue.sync()
        positions = {s: p.qty for s, p in sim.venue.ledger.positions.items() if abs(p.qty) > DUST}
        stops = [o for o in sim.venue.algos.values() if o.is_open and o.type == "STOP_MARKET"
                 and (o.reduce_only or o.close_position)]
    naked = 0
    for symbol, qty in positions.items():
        closing = "SELL" if qty > 0 else "BUY"
        cover = sum(o.qty - o.executed for o in stops if o.symbol == symbol and o.side == closing)
        if not any(o.close_position for o in stops if o.symbol == symbol and o.side == closing) \
                and cover < abs(qty) - 1e-9:
            naked += 1
    return len(positions), naked


def start_bot(journal: Path, url: str, log) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "BOT_CONFIG", "SLACK_"))}
    env.update(BINANCE_BASE_URL=url, BINANCE_KEY=KEY, BINANCE_SECRET=SECRET, TESTNET="true", POLL_SEC="0.05",
               LOOKBACK=str(LOOKBACK), KILL_SWITCH_WINDOW_SEC="2", SAFE_RESTART="true", **ACTIVE)
    return subprocess.Popen([str(BIN / "bot"), "live", "--exchange", "binance", "--journal", str(journal), "--json"],
                            env=env, stdout=subprocess.DEVNULL, stderr=log, cwd=journal.parent)


def wait_idle(journal: Journal, candles: int, proc: subprocess.Popen, timeout: float = 180.0) -> bool:
    """The bot recorded `candles` live bars and its poll ended (quiet for a moment); False if it exited."""
    deadline, stable, seen = time.monotonic() + timeout, 0, -1
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        got, _, last, records = journal.scan()
        idle = last in (EquityObserved, ClockObserved, ErrorObserved) or (candles == 0 and last is CandleClosed)
        if got >= candles and idle:
            stable = stable + 1 if records == seen else 0
            seen = records
            if stable >= 2:
                return True
        time.sleep(0.1)
    raise TimeoutError(f"bot did not finish bar {candles // 2} within {timeout:.0f}s")


def soak(orders_wanted: int, faults: str, journal_dir: Path, data: Path, max_bars: int) -> dict:
    spec = FaultSpec.parse(faults)
    sim = build_server(data, key=KEY, secret=SECRET, speed=0.0, retry_after_s=0).start()
    rolls = [0]
    roll = sim.faults.roll

    def counted(kinds):
        rolls[0] += 1
        return roll(kinds)

    sim.faults.roll = counted  # requests that could meet a fault (the rate's denominator)
    journal = Journal(journal_dir)
    log = open(journal_dir.parent / f"{journal_dir.name}.bot.log", "a")
    started = time.monotonic()
    bars = trips = checked = positions_seen = naked_closes = 0
    faults_on = False
    proc = start_bot(journal_dir, sim.url, log)
    try:
        while True:
            if not wait_idle(journal, 2 * bars, proc):
                if proc.wait() != 3:
                    raise RuntimeError(f"bot exited {proc.returncode}; see {log.name}")
                trips += 1
                sim.set_faults(FaultSpec())
                faults_on = False
                proc = start_bot(journal_dir, sim.url, log)
                wait_idle(journal, 2 * bars, proc)
            if not faults_on:  # (re)arming reseeds the injector: only after start-up, never per bar
                sim.set_faults(spec)
                faults_on = True
            held, naked = unprotected(sim)
            checked, positions_seen, naked_closes = checked + 1, positions_seen + held, naked_closes + naked
            orders = journal.scan()[1]
            if orders >= orders_wanted or bars >= max_bars:
                break
            sim.step(1)
            bars += 1
        sim.set_faults(FaultSpec())
        proc.send_signal(signal.SIGTERM)
        exit_code = proc.wait(timeout=120)
        state = sim.state()
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.stop()
        log.close()
    elapsed = time.monotonic() - started
    verify = subprocess.run([str(BIN / "journal"), "verify", str(journal_dir)], capture_output=True, text=True)
    replay = subprocess.run([str(BIN / "journal"), "replay", str(journal_dir)], capture_output=True, text=True)
    injected = state["faults_injected"]
    return {
        "orders": orders, "bars": bars, "faults_spec": faults, "strategy_overrides": ACTIVE, "faults_injected": injected,
        "faults_total": sum(injected.values()), "fault_eligible_requests": rolls[0],
        "fault_rate": round(sum(injected.values()) / max(rolls[0], 1), 4),
        "duplicate_orders": state["duplicate_placements"], "unprotected_bar_closes": naked_closes,
        "bar_closes_checked": checked, "position_bar_closes": positions_seen, "kill_switch_trips": trips,
        "bot_exit_code": exit_code, "journal_verify_ok": verify.returncode == 0,
        "journal_replay_ok": replay.returncode == 0, "seconds": round(elapsed, 1),
        "orders_per_s": round(orders / elapsed, 2) if elapsed else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None, help="OHLCV dir (default ../shared/data/ohlcv)")
    parser.add_argument("--max-bars", type=int, default=9000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = args.data or default_data()
    if not (data / "1h").is_dir():
        print(f"--data {data}: no 1h candles there", file=sys.stderr)
        return 2
    if args.journal.exists() and any(args.journal.iterdir()):
        print(f"--journal {args.journal}: must be new or empty", file=sys.stderr)
        return 2
    args.journal.mkdir(parents=True, exist_ok=True)
    result = soak(args.orders, args.faults, args.journal, data, args.max_bars)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    ok = (result["duplicate_orders"] == 0 and result["unprotected_bar_closes"] == 0
          and result["journal_verify_ok"] and result["journal_replay_ok"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
