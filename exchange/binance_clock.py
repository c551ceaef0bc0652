"""Exchange time vs local time: measured, recorded, and used to stamp signed requests.

ccxt signs `timestamp = local ms - options.timeDifference`; `resync` measures the
venue clock (/fapi/v1/time) and sets that offset, so a drifting local clock (or a
venue that runs ahead) no longer trips -1021 instead of halting the bot.
"""
from __future__ import annotations

import ccxt

from journal.events import ClockObserved


def resync(client: ccxt.binanceusdm, ts: int) -> ClockObserved:
    """Measure the venue clock and adopt it; drift_ms = exchange - local."""
    before = client.milliseconds()
    server = int(client.fetch_time())
    after = client.milliseconds()
    local = (before + after) // 2
    drift = server - local
    client.options["timeDifference"] = -drift
    return ClockObserved(ts=ts, drift_ms=drift, source="exchange")
