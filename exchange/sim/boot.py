"""Build a SimServer from command-line style inputs (data dir, --start, --faults, ...)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from exchange.sim.data import TIMEFRAME_MS, load_candles
from exchange.sim.faults import FaultSpec
from exchange.sim.server import SimServer
from journal.errors import BadInput

WARMUP_BARS = 500
"""By default the market clock starts at the open of bar index 500: 500 closed bars behind it."""


def parse_start(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"--start {text!r}: not an ISO date/time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def build_server(data_dir: str | Path, *, host: str = "127.0.0.1", port: int = 0, speed: float = 1.0,
                 start: str | int | None = None, faults: str | FaultSpec | None = None, key: str = "sim-key",
                 secret: str = "sim-secret", timeframe: str = "1h", wallet: float = 10_000.0,
                 retry_after_s: int = 1) -> SimServer:
    series = load_candles(data_dir, timeframe)
    bar_ms = TIMEFRAME_MS[timeframe]
    if start is None:
        short = [s for s in series.values() if len(s.ts) <= WARMUP_BARS]
        if short:
            raise BadInput(f"{data_dir}: {short[0].venue_id} has {len(short[0].ts)} bars; "
                           f"the sim needs more than {WARMUP_BARS} (or --start)")
        start_ms = max(int(s.ts[WARMUP_BARS]) for s in series.values())
    else:
        start_ms = start if isinstance(start, int) else parse_start(start)
        start_ms -= start_ms % bar_ms
    if speed < 0:
        raise BadInput(f"--speed {speed}: must be >= 0")
    spec = faults if isinstance(faults, FaultSpec) else FaultSpec.parse(faults)
    try:
        return SimServer(series, bar_ms=bar_ms, start_ms=start_ms, host=host, port=port, speed=speed, faults=spec,
                         key=key, secret=secret, wallet=wallet, retry_after_s=retry_after_s)
    except OSError as exc:
        raise BadInput(f"--host {host} --port {port}: cannot listen ({exc.strerror})") from None
