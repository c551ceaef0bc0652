"""Public market data JSON: klines and premiumIndex (mark price, funding)."""
from __future__ import annotations

from exchange.sim.data import TIMEFRAME_MS
from exchange.sim.engine import FUNDING_EVERY_MS, Engine
from exchange.sim.orders import fmt
from exchange.sim.signing import ApiError


def klines(engine: Engine, params: dict, bar_ms: int) -> list[list]:
    """Closed bars up to the market clock, then the forming bar as it stands at its open
    (o=h=l=c=open, volume 0: the sim never shows prices from the future)."""
    series = engine._series(params.get("symbol", ""))
    interval = params.get("interval", "")
    if TIMEFRAME_MS.get(interval) != bar_ms:
        raise ApiError(400, -1120, "Invalid interval.")
    limit = max(1, min(int(params.get("limit") or 500), 1500))
    forming = engine.forming
    end = min(int(params.get("endTime") or forming), forming)
    last = series.index_at(end)
    if "startTime" in params:
        first = series.index_at(int(params["startTime"]) - 1) + 1
        stop = min(last + 1, first + limit)
    else:
        stop = last + 1
        first = max(0, stop - limit)
    rows = []
    for i in range(max(first, 0), max(stop, 0)):
        ts = int(series.ts[i])
        bar = (series.open[i], series.high[i], series.low[i], series.close[i], series.volume[i])
        if ts >= forming:
            bar = (series.open[i],) * 4 + (0.0,)
        o, h, l, c, v = (fmt(float(x)) for x in bar)
        rows.append([ts, o, h, l, c, v, ts + bar_ms - 1, fmt(float(bar[3]) * float(bar[4])), 1, "0", "0", "0"])
    return rows


def premium_index(engine: Engine, symbol: str | None, now: int) -> dict | list[dict]:
    next_funding = (engine.forming // FUNDING_EVERY_MS + 1) * FUNDING_EVERY_MS
    marks = engine.marks()

    def row(s: str) -> dict:
        mark = fmt(marks.get(s, 0.0))
        return {"symbol": s, "markPrice": mark, "indexPrice": mark, "estimatedSettlePrice": mark,
                "lastFundingRate": fmt(engine.funding_rate), "interestRate": "0.00010000",
                "nextFundingTime": next_funding, "time": engine.clock.now_ms()}

    if symbol:
        engine._series(symbol)
        return row(symbol)
    return [row(s) for s in engine.series]
